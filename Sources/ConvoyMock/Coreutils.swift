import Foundation

/// Reference figures from coreutils, to check Convoy's own against in tests and benchmarks.
public enum Coreutils {
    /// The lowercase hex digest that `sha256sum` prints for the file at `path`.
    /// - Throws: when `/usr/bin/sha256sum` cannot run, or a ``MockServerError`` naming it and its
    ///   exit status when it fails (a missing file, say).
    public static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, output.count >= 64 else {
            throw MockServerError(operation: "sha256sum \(path)", code: process.terminationStatus)
        }
        return String(decoding: output.prefix(64), as: UTF8.self)
    }
}
