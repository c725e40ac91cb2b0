import Foundation

/// A fresh directory under the system's temporary folder, removed with everything in it when the
/// value goes away. Tests and benchmarks use one per run so they never see each other's files.
public struct TemporaryDirectory: ~Copyable {
    /// The directory's absolute path.
    public let path: String

    /// Creates the directory.
    /// - Throws: when the temporary folder is not writable.
    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("convoy-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
