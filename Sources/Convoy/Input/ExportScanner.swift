import Foundation

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
    /// - Throws: an input error when `path` does not exist or holds no JSON files.
    public func files() throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ConvoyError.input("no such file or folder: \(path)")
        }
        guard isFolder.boolValue else { return [path] }
        let suffixes = [".json", ".ndjson", ".jsonl"]
        let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
            .filter { name in suffixes.contains { name.lowercased().hasSuffix($0) } }
            .sorted()
            .map { (path as NSString).appendingPathComponent($0) }
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
