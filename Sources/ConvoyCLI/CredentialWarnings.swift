import Foundation
import Glibc

/// What a user would want to hear about how they passed credentials, before a run: a token on
/// the command line (every user of the machine can read it in the process list) and a credentials
/// file that others may read.
enum CredentialWarnings {
    /// The warnings for `arguments` (of `fetch` or `loadtest`, without the command's name), one
    /// line each, ready to print.
    static func warnings(arguments: [String], environment: [String: String]) -> [String] {
        var warnings: [String] = []
        if arguments.contains(where: { $0 == "--token" || $0.hasPrefix("--token=") }) {
            warnings.append(
                "convoy: warning: --token puts the token in the process list, where every user of this machine "
                    + "can read it; prefer GENESYSCLOUD_ACCESS_TOKEN (or --credentials FILE)")
        }
        // The file as the command will read it: {shard} and {index} filled in.
        let filled = (try? FetchCommand.fillingShard(arguments, environment: environment)) ?? arguments
        for (position, argument) in filled.enumerated() {
            let path: String
            if argument == "--credentials", position + 1 < filled.count {
                path = filled[position + 1]
            } else if argument.hasPrefix("--credentials=") {
                path = String(argument.dropFirst("--credentials=".count))
            } else {
                continue
            }
            var status = stat()
            guard stat(path, &status) == 0, status.st_mode & 0o077 != 0 else { continue }
            warnings.append(
                "convoy: warning: the credentials file \(path) can be read or written by other users (mode "
                    + "\(String(status.st_mode & 0o777, radix: 8))); make it private: chmod 600 \(path)")
        }
        return warnings
    }
}
