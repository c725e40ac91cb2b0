import Foundation

/// The manifest file of an output: one sealed ``RunManifest`` line per run, chained by hash.
public struct ManifestLog: Sendable {
    /// Where the lines live.
    public let path: String
    private let fileSystem: any FileSystem

    /// - Parameter fileSystem: the system calls that append and sync (a test may record them).
    public init(path: String, fileSystem: any FileSystem = PosixFileSystem()) {
        self.path = path
        self.fileSystem = fileSystem
    }

    /// `out.ndjson` → `out.manifest.ndjson` (the same rule as the errors file's name).
    public static func defaultPath(for output: String) -> String {
        for suffix in [".ndjson", ".jsonl"] where output.hasSuffix(suffix) {
            return String(output.dropLast(suffix.count)) + ".manifest" + suffix
        }
        return output + ".manifest.ndjson"
    }

    /// Every whole line of the file, as written; none when it does not exist.
    public func lines() throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        try NDJSONFile.forEachLine(atPath: path) { lines.append(Array($0)) }
        return lines
    }

    /// The last line and what it says, or nil when no run has written one.
    /// - Throws: ``ConvoyError/output(_:)`` when the file cannot be read or its last line is not a
    ///   manifest: a chain cannot be continued from a line nobody can check.
    public func last() throws -> (line: [UInt8], manifest: RunManifest)? {
        guard let line = try lines().last else { return nil }
        do {
            return (line, try RunManifest.decode(line))
        } catch {
            throw ConvoyError.output("the last line of \(path) is not a Convoy manifest: \(error)")
        }
    }

    /// Appends `manifest` chained to the current last line (its `previous` is set here), sealed,
    /// and forces it to disk (and the folder, when the file is new). Returns the line written.
    @discardableResult
    public func append(_ manifest: some SealedManifest) throws -> [UInt8] {
        var manifest = manifest
        manifest.previous = try lines().last.map { SHA256.hex(SHA256.hash($0)) }
        let line = try manifest.sealedLine()
        let created = !FileManager.default.fileExists(atPath: path)
        let file = try NDJSONFile(path: path, fileSystem: fileSystem)
        try file.append(line)
        try file.sync()
        if created { AtomicFile.syncFolder(of: path, fileSystem: fileSystem) }  // the new file's name must survive too
        return line
    }
}
