import Convoy
import Foundation
import Glibc

/// Checks, before any request is sent, that an output path can be written: its folder exists and
/// takes new files, and it is not a folder or a read-only file. Nothing is created.
enum OutputPathCheck {
    /// Throws an output error naming `option` and the cause; `-` (standard output) always passes.
    static func check(_ path: String, option: String) throws {
        guard path != "-" else { return }
        func fail(_ reason: String) -> ConvoyError {
            ConvoyError.output("\(option) \(path) cannot be written: \(reason)")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            if status.st_mode & S_IFMT == S_IFDIR { throw fail("it is a folder; name a file") }
            if status.st_mode & S_IFMT == S_IFREG, access(path, W_OK) != 0 {
                throw fail(String(cString: strerror(errno)))
            }
        }
        let folder = (path as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder) else {
            throw fail("the folder \(parent) does not exist")
        }
        guard isFolder.boolValue else { throw fail("\(parent) is not a folder") }
        guard access(parent, W_OK | X_OK) == 0 else {
            throw fail("the folder \(parent) does not take new files (\(String(cString: strerror(errno))))")
        }
    }
}
