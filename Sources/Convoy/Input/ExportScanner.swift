import Foundation

/// Pulls every `conversationId` out of the JSON or NDJSON files that a bulk recording export
/// leaves, so no one has to write a script to get the ids back.
///
/// `path` may be one file or a folder, searched recursively for `.json`, `.ndjson` and `.jsonl`
/// files, read in name order. A file is parsed as one JSON document if it is one, else line by
/// line as NDJSON. Every string value of a `conversationId` key at any depth is an id; a value that
/// is not a UUID becomes an invalid input line. Line numbers count ids found, across files.
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

    /// The conversation ids in one JSON value, depth first.
    static func conversationIDs(in value: Any, into ids: inout [String]) {
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() {
                if key == "conversationId", let id = object[key] as? String {
                    ids.append(id)
                } else {
                    conversationIDs(in: object[key]!, into: &ids)
                }
            }
        } else if let array = value as? [Any] {
            for element in array { conversationIDs(in: element, into: &ids) }
        }
    }

    /// The ids in one file, in order.
    static func conversationIDs(inFile file: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConvoyError.input("cannot read \(file)")
        }
        var ids: [String] = []
        if let document = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) {
            conversationIDs(in: document, into: &ids)
            return ids
        }
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let value = try? JSONSerialization.jsonObject(with: Data(line)) else { continue }
            conversationIDs(in: value, into: &ids)
        }
        return ids
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(files: (try? files()) ?? [])
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var files: [String]
        var pending: [String] = []
        var line = 0

        public mutating func next() async throws -> Element? {
            while pending.isEmpty {
                guard !files.isEmpty else { return nil }
                pending = try ExportScanner.conversationIDs(inFile: files.removeFirst()).reversed()
            }
            line += 1
            let text = pending.removeLast()
            guard let id = ConversationID(text.trimmingCharacters(in: .whitespaces)) else {
                return (line, .invalid(text, reason: "conversationId in the export is not a UUID"))
            }
            return (line, .id(id))
        }
    }
}
