import Foundation

/// How a manifest names the files it vouches for: relative to the manifest's own folder, so that
/// `convoy verify` finds the very files the run wrote wherever it is run from (and after the
/// folder is copied elsewhere whole), never a file of the same name in the working directory.
public enum ManifestPath {
    /// `path` as the manifest at `manifest` records it: relative to the manifest's folder (`-`
    /// stays `-`). Both are taken from the working directory, without resolving links.
    public static func recorded(_ path: String, manifest: String) -> String {
        guard path != "-" else { return path }
        let file = components(absolute(path))
        let folder = components((absolute(manifest) as NSString).deletingLastPathComponent)
        let shared = zip(file, folder).prefix { $0 == $1 }.count
        let relative = Array(repeating: "..", count: folder.count - shared) + file.dropFirst(shared)
        return relative.joined(separator: "/")
    }

    /// A path the manifest at `manifest` recorded, as a path to open: an absolute one as it is, a
    /// relative one from the manifest's folder.
    public static func resolved(_ recorded: String, manifest: String) -> String {
        guard recorded != "-", !recorded.hasPrefix("/") else { return recorded }
        let folder = (manifest as NSString).deletingLastPathComponent
        return folder.isEmpty ? recorded : (folder as NSString).appendingPathComponent(recorded)
    }

    /// `path` from the root, `.` and `..` taken out lexically.
    public static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    private static func components(_ absolute: String) -> [String] {
        absolute.split(separator: "/").map(String.init)
    }
}
