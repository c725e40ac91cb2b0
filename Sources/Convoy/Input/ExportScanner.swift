import Foundation
import Glibc

/// Pulls every `conversationId` out of the JSON or NDJSON files that a bulk recording export
/// leaves, so no one has to write a script to get the ids back.
///
/// `path` may be one file or a folder, searched recursively for `.json`, `.ndjson` and `.jsonl`
/// files, read in name order. A file may be one JSON document or NDJSON (see ``ExportFileScan``).
/// Every string value of a `conversationId` key at any depth is an id, in document order, each once
/// per file (a transcript names its conversation on every message); a value that is not a UUID,
/// and a line that is not JSON, become invalid input lines. Line numbers count the records so
/// produced, across files.
public struct ExportScanner: AsyncSequence, Sendable {
    public typealias Element = IDReader.Element

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The files that will be read.
    /// - Throws: an input error when `path` does not exist or holds no JSON files, or when a file
    ///   in it is a link to a file outside it.
    public func files() throws -> [String] {
        try entries().map(\.path)
    }

    /// The files that will be read, each with its name relative to the export: the path components
    /// the folder walk went through (never a count of characters cut off a resolved path), none of
    /// them empty, `.` or `..`. A single file's relative name is its last component.
    ///
    /// A file that is a symbolic link is read only when it resolves inside the export: a link out
    /// of it is an error, not followed.
    /// - Throws: an input error when `path` does not exist or holds no JSON files, or names a link
    ///   out of the export.
    public func entries() throws -> [(path: String, relative: String)] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ConvoyError.input("no such file or folder: \(path)")
        }
        guard isFolder.boolValue else { return [(path, (path as NSString).lastPathComponent)] }
        let suffixes = [".json", ".ndjson", ".jsonl"]
        let root = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let found = try (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
            .filter { name in suffixes.contains { name.lowercased().hasSuffix($0) } }
            .sorted()
            .map { relative -> (path: String, relative: String) in
                let components = relative.split(separator: "/", omittingEmptySubsequences: false)
                guard !relative.hasPrefix("/"), components.allSatisfy({ !["", ".", ".."].contains($0) }) else {
                    throw ConvoyError.input("the export names a file '\(relative)' that is not a plain relative path")
                }
                let file = (path as NSString).appendingPathComponent(relative)
                var status = stat()
                if lstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFLNK {
                    let target = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
                    guard target.hasPrefix(root + "/") else {
                        throw ConvoyError.input(
                            "\(file) is a link to \(target), outside the export: Convoy does not follow links out of "
                                + "an export (copy the file in, or give its own folder)")
                    }
                }
                return (file, relative)
            }
        guard !found.isEmpty else { throw ConvoyError.input("no .json, .ndjson or .jsonl files in \(path)") }
        return found
    }

    /// What one file holds, in document order: its distinct ids, then a line for each line that
    /// is not JSON (so that no id in it is lost unnoticed).
    static func inputLines(inFile file: String) throws -> [InputLine] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConvoyError.input("cannot read \(file)")
        }
        let scan = data.withUnsafeBytes { ExportFileScan(bytes: $0.bindMemory(to: UInt8.self)) }
        var lines: [InputLine] = []
        var seen = Set<ConversationID>()
        for holder in scan.holders {
            guard let id = ConversationID(holder.id.trimmingCharacters(in: .whitespaces)) else {
                lines.append(.invalid(holder.id, reason: "conversationId in the export is not a UUID"))
                continue
            }
            // A transcript names its conversation on every message: one input record per file.
            if seen.insert(id).inserted { lines.append(.id(id)) }
        }
        for line in scan.unreadable {
            lines.append(
                .invalid(line.excerpt, reason: "line \(line.line) of \(file) is not JSON; its ids cannot be read"))
        }
        return lines
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(files: (try? files()) ?? [])
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var files: [String]
        var pending: [InputLine] = []
        var line = 0

        public mutating func next() async throws -> Element? {
            while pending.isEmpty {
                guard !files.isEmpty else { return nil }
                pending = try ExportScanner.inputLines(inFile: files.removeFirst()).reversed()
            }
            line += 1
            return (line, pending.removeLast())
        }
    }
}
