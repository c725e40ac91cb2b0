import ConvoyCLI
import Foundation

exit(await ConvoyCommandLine.main(Array(CommandLine.arguments.dropFirst())))
