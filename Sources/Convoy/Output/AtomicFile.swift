import Foundation
import Glibc

/// Replaces a file's contents so that a crash leaves either the old file or the new one, never a mix.
///
/// Protocol: write a new temp file under a random name in the same folder (mode 0600), `fsync` it, `rename` it over the
/// target, then `fsync` the folder so the rename itself is durable.
public enum AtomicFile {
    /// Replaces `path` with `lines`, each followed by `\n`.
    /// - Parameter fileSystem: the system calls that write, sync and rename (a test may record them).
    public static func replace(
        path: String, lines: [ArraySlice<UInt8>], fileSystem: any FileSystem = PosixFileSystem()
    ) throws {
        let (temp, fd) = try createTemporary(for: path, fileSystem: fileSystem)
        var ok = true
        for line in lines where ok {
            var bytes = Array(line)
            bytes.append(UInt8(ascii: "\n"))
            ok = bytes.withUnsafeBytes { fileSystem.write(fd, $0) == $0.count }
        }
        ok = ok && fileSystem.fsync(fd) == 0
        let writeError = ok ? nil : NDJSONFile.lastError()  // before close() can change errno
        _ = close(fd)
        guard ok, fileSystem.rename(temp, to: path) == 0 else {
            let reason = writeError ?? NDJSONFile.lastError()
            _ = unlink(temp)
            throw ConvoyError.output("cannot rewrite \(path): \(reason)")
        }
        syncFolder(of: path, fileSystem: fileSystem)
    }

    /// Creates a new temp file beside `path` (mode 0600), under a name no one can guess
    /// (`<path>.tmp-<pid>-<64 random bits>`), with `O_EXCL | O_NOFOLLOW`: a file or a link planted
    /// at a predictable name is never opened, truncated or written through.
    static func createTemporary(
        for path: String, fileSystem: any FileSystem
    ) throws -> (path: String, descriptor: Int32) {
        for _ in 0..<8 {
            let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
            let temp = path + ".tmp-\(getpid())-\(suffix)"
            let fd = fileSystem.open(
                temp, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
            if fd >= 0 { return (temp, fd) }
            if errno != EEXIST { throw ConvoyError.output("cannot create \(temp): \(NDJSONFile.lastError())") }
        }
        throw ConvoyError.output("cannot create a temporary file beside \(path): every name tried exists")
    }

    /// Forces the folder holding `path` to disk, so that a file created or renamed there survives
    /// a power loss (best effort: a folder that cannot be opened is left as it is).
    public static func syncFolder(of path: String, fileSystem: any FileSystem = PosixFileSystem()) {
        let folder = (path as NSString).deletingLastPathComponent
        let folderFD = fileSystem.open(folder.isEmpty ? "." : folder, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        if folderFD >= 0 {
            _ = fileSystem.fsync(folderFD)
            _ = close(folderFD)
        }
    }

    /// A file written in pieces and put in place whole: bytes go to a temp file in the same folder,
    /// and ``commit()`` syncs it and renames it over the target. Until then the target is as it
    /// was; a writer dropped without a commit removes its temp file. Bytes are fingerprinted as
    /// they pass, for a manifest.
    public final class Writer {
        public let path: String
        private let temp: String
        private let fileSystem: any FileSystem
        private var descriptor: Int32
        private var buffer: [UInt8] = []
        private var tally = FileFingerprint.Tally()

        /// Creates the temp file (mode 0600).
        public init(path: String, fileSystem: any FileSystem = PosixFileSystem()) throws {
            self.path = path
            self.fileSystem = fileSystem
            (temp, descriptor) = try AtomicFile.createTemporary(for: path, fileSystem: fileSystem)
            buffer.reserveCapacity(Self.bufferSize)
        }

        deinit {
            guard descriptor >= 0 else { return }
            _ = close(descriptor)
            _ = unlink(temp)
        }

        private static let bufferSize = 256 * 1024

        public func write(_ bytes: some Collection<UInt8>) throws {
            buffer.append(contentsOf: bytes)
            if buffer.count >= Self.bufferSize { try flush() }
        }

        /// Syncs the bytes and renames the file into place; returns its fingerprint. The folder is
        /// not synced here: a caller that writes many files syncs each folder once
        /// (``AtomicFile/syncFolder(of:fileSystem:)``).
        @discardableResult
        public func commit() throws -> FileFingerprint {
            try flush()
            guard fileSystem.fsync(descriptor) == 0 else {
                throw ConvoyError.output("cannot sync \(temp): \(NDJSONFile.lastError())")
            }
            _ = close(descriptor)
            descriptor = -1
            guard fileSystem.rename(temp, to: path) == 0 else {
                let reason = NDJSONFile.lastError()
                _ = unlink(temp)
                throw ConvoyError.output("cannot put \(path) in place: \(reason)")
            }
            return tally.fingerprint
        }

        private func flush() throws {
            try buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = fileSystem.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw ConvoyError.output("cannot write \(temp): \(NDJSONFile.lastError())")
                    }
                    offset += written
                }
                tally.add(bytes)
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
