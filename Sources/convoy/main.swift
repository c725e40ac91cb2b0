import ConvoyCLI
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

let status = await ConvoyCommandLine.main(Array(CommandLine.arguments.dropFirst()))
// Every file is synced and closed by now. `exit` would run the C and C++ static destructors while
// worker threads (the socket transport's, the cooperative pool's) may still touch what they
// destroy, which was seen to crash at exit; flush the standard streams and leave without them.
fflush(nil)
_exit(status)
