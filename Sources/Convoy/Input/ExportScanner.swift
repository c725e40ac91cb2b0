import Foundation
import Glibc

/// Pulls every conversation id out of a recording or transcript export, so no one has to write a
/// script to get the ids back.
///
/// `path` may be one file or a folder, searched recursively in name order. Two kinds of source:
/// - **Genesys's S3 export layout** (`{org}/year=…/month=…/day=…/hour=…/conversation_id={id}/`,
///   one file per recording named by its id, a `{recordingId}_metadata.json` beside it): every
///   `conversation_id=` folder is one id, from its name. The recordings themselves (audio, video,
///   screen) are skipped unread; only `.json` files in the folder are read, and an id in them that
///   is the folder's own is not counted again.
/// - **JSON and NDJSON files** (`.json`, `.ndjson`, `.jsonl`), one document or one per line (see
///   ``ExportFileScan``): every string value of a `conversationId` key at any depth is an id, in
///   document order, each once per file (a transcript names its conversation on every message).
///
/// A folder name or a value that is not a UUID, and a line that is not JSON, become invalid input
/// lines. An export in which nothing names a conversation is an error that says what was looked
/// for, never an empty run. Line numbers count the records so produced, across files.
public struct ExportScanner: AsyncSequence, Sendable {
    public typealias Element = IDReader.Element

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The JSON files that will be read.
    /// - Throws: an input error when `path` does not exist or holds neither JSON files nor
    ///   conversation folders, or when a file in it is a link to a file outside it.
    public func files() throws -> [String] {
        try entries().map(\.path)
    }

    /// A `conversation_id={id}` folder of Genesys's S3 export layout.
    public struct ConversationFolder: Sendable, Equatable {
        /// Its path relative to the export, e.g. `org/year=2026/…/conversation_id=…`.
        public var relative: String
        /// What its name says after `conversation_id=`.
        public var idText: String
    }

    /// The prefix of a conversation folder's name.
    public static let folderPrefix = "conversation_id="

    /// The conversation folders of the export, in name order (none for a single file).
    public func conversationFolders() throws -> [ConversationFolder] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            return []
        }
        let names = FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []
        return names.sorted().compactMap { relative in
            guard let last = relative.split(separator: "/").last, last.hasPrefix(Self.folderPrefix) else { return nil }
            var isFolder: ObjCBool = false
            let full = (path as NSString).appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue else {
                return nil
            }
            return ConversationFolder(relative: relative, idText: String(last.dropFirst(Self.folderPrefix.count)))
        }
    }

    /// The innermost conversation folder that holds the file at `relative`, or nil.
    public static func folder(holding relative: String) -> String? {
        let components = relative.split(separator: "/").dropLast()
        guard let index = components.lastIndex(where: { $0.hasPrefix(folderPrefix) }) else { return nil }
        return components[...index].joined(separator: "/")
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
        guard try !found.isEmpty || !conversationFolders().isEmpty else { throw Self.nothingToRead(path) }
        return found
    }

    /// The error for an export in which nothing can name a conversation.
    static func nothingToRead(_ path: String) -> ConvoyError {
        ConvoyError.input(
            "no conversation ids in \(path): looked for conversation_id= folders (Genesys's S3 export layout) and "
                + "for conversationId members in .json, .ndjson and .jsonl files")
    }

    /// What one file holds, in document order: its distinct ids, then a line for each line that
    /// is not JSON (so that no id in it is lost unnoticed).
    static func inputLines(inFile file: String, besides folderID: ConversationID? = nil) throws -> [InputLine] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConvoyError.input("cannot read \(file)")
        }
        let scan = data.withUnsafeBytes { ExportFileScan(bytes: $0.bindMemory(to: UInt8.self)) }
        var lines: [InputLine] = []
        // The folder's own id was counted from its name.
        var seen = Set(folderID.map { [$0] } ?? [])
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

    /// What the iterator reads, in name order: a conversation folder's name comes before the files
    /// in it.
    enum Source: Sendable {
        case folder(ConversationFolder)
        case file(path: String, relative: String)
    }

    func sources() throws -> [Source] {
        let files = try entries().map { Source.file(path: $0.path, relative: $0.relative) }
        let folders = try conversationFolders().map { Source.folder($0) }
        func key(_ source: Source) -> String {
            switch source {
            case .folder(let folder): folder.relative
            case .file(_, let relative): relative
            }
        }
        return (files + folders).sorted { key($0) < key($1) }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(path: path, sources: Result { try sources() })
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        var sources: Result<[Source], Error>
        var pending: [InputLine] = []
        var line = 0
        /// Conversation folder ids by relative path, to skip them again in the folder's files.
        var folderIDs: [String: ConversationID] = [:]

        init(path: String, sources: Result<[Source], Error>) {
            self.path = path
            self.sources = sources.map { $0.reversed() }
        }

        public mutating func next() async throws -> Element? {
            var remaining = try sources.get()
            defer { sources = .success(remaining) }
            while pending.isEmpty {
                guard let source = remaining.popLast() else {
                    if line == 0 { throw ExportScanner.nothingToRead(path) }
                    return nil
                }
                switch source {
                case .folder(let folder):
                    if let id = ConversationID(folder.idText) {
                        folderIDs[folder.relative] = id
                        pending = [.id(id)]
                    } else {
                        pending = [
                            .invalid(
                                folder.relative, reason: "the export folder's conversation_id= is not a UUID")
                        ]
                    }
                case .file(let path, let relative):
                    let holder = ExportScanner.folder(holding: relative).flatMap { folderIDs[$0] }
                    pending = try ExportScanner.inputLines(inFile: path, besides: holder).reversed()
                }
            }
            line += 1
            return (line, pending.removeLast())
        }
    }
}
