import Foundation
import Glibc

/// Replaces a file's contents so that a crash leaves either the old file or the new one, never a mix.
///
/// Protocol: write a temp file in the same folder (mode 0600), `fsync` it, `rename` it over the
/// target, then `fsync` the folder so the rename itself is durable.
public enum AtomicFile {
    /// Replaces `path` with `lines`, each followed by `\n`.
    public static func replace(path: String, lines: [ArraySlice<UInt8>]) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConvoyError.output("cannot create \(temp): \(NDJSONFile.lastError())") }
        var ok = true
        for line in lines where ok {
            var bytes = Array(line)
            bytes.append(UInt8(ascii: "\n"))
            ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        }
        ok = ok && fsync(fd) == 0
        _ = close(fd)
        guard ok, rename(temp, path) == 0 else {
            let reason = NDJSONFile.lastError()
            _ = unlink(temp)
            throw ConvoyError.output("cannot rewrite \(path): \(reason)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let folderFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            _ = close(folderFD)
        }
    }
}
