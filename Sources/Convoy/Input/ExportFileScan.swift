import Foundation

/// Where the conversation ids sit in one export file, found without building the document: every
/// JSON object with a string `conversationId` member, in document order, with its byte range.
///
/// A file is read as a sequence of JSON values separated by whitespace, which covers both one JSON
/// document and NDJSON. When that fails, it is read line by line, and a line that is not JSON (or
/// not UTF-8) is kept as ``unreadable``, so that no id in it goes unnoticed.
public struct ExportFileScan: Sendable {
    /// One object that names a conversation.
    public struct Holder: Sendable, Equatable {
        /// The `conversationId` value, JSON escapes decoded, untrimmed.
        public var id: String
        /// Byte offset of the value's opening quote.
        public var offset: Int
        /// The object's bytes, `{` to `}` inclusive.
        public var object: ClosedRange<Int>
    }

    /// A line that is not JSON.
    public struct UnreadableLine: Sendable, Equatable {
        /// 1-based line number.
        public var line: Int
        /// Byte offset of the line's first byte.
        public var offset: Int
        /// The line's start (at most 120 bytes), for a person to find it.
        public var excerpt: String
    }

    public var holders: [Holder] = []
    public var unreadable: [UnreadableLine] = []

    /// Scans `bytes`, a whole export file.
    public init(bytes: UnsafeBufferPointer<UInt8>) {
        if String(validating: bytes, as: UTF8.self) != nil, let holders = Self.holders(in: bytes, base: 0, whole: true)
        {
            self.holders = holders
            return
        }
        var lineStart = 0
        var number = 0
        while lineStart < bytes.count {
            let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            number += 1
            let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<newline])
            let isBlank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if !isBlank {
                if String(validating: line, as: UTF8.self) != nil, let found = Self.holders(in: line, base: lineStart) {
                    holders += found
                } else {
                    let excerpt = String(decoding: line.prefix(120), as: UTF8.self)
                    unreadable.append(UnreadableLine(line: number, offset: lineStart, excerpt: excerpt))
                }
            }
            lineStart = newline + 1
        }
    }

    /// The holders in `bytes` (offsets shifted by `base`), or nil when it is not JSON.
    private static func holders(in bytes: UnsafeBufferPointer<UInt8>, base: Int, whole: Bool = false) -> [Holder]? {
        var parser = JSONParser(input: bytes, sink: HolderSink(input: bytes))
        guard whole ? parser.sequence() : parser.document() else { return nil }
        return parser.sink.found
            .sorted { $0.offset < $1.offset }
            .map {
                Holder(
                    id: $0.id, offset: $0.offset + base,
                    object: $0.object.lowerBound + base...$0.object.upperBound + base)
            }
    }

    /// Collects the objects with a string `conversationId`, innermost first as they close.
    private struct HolderSink: JSONSink {
        let input: UnsafeBufferPointer<UInt8>
        /// Per open object: its start and the ids seen in it so far.
        var open: [(start: Int, ids: [(String, Int)])] = []
        var found: [Holder] = []
        static let key = Array(#""conversationId""#.utf8)

        init(input: UnsafeBufferPointer<UInt8>) {
            self.input = input
        }

        mutating func objectStarted(at offset: Int) { open.append((offset, [])) }

        mutating func objectEnded(at offset: Int) {
            guard let object = open.popLast() else { return }
            for (id, valueOffset) in object.ids {
                found.append(Holder(id: id, offset: valueOffset, object: object.start...offset))
            }
        }

        mutating func member(key: Range<Int>, value: Range<Int>) {
            guard input[value.lowerBound] == UInt8(ascii: "\""), isConversationIDKey(key),
                let id = Self.decodeString(UnsafeBufferPointer(rebasing: input[value]))
            else { return }
            open[open.count - 1].ids.append((id, value.lowerBound))
        }

        private func isConversationIDKey(_ key: Range<Int>) -> Bool {
            let bytes = UnsafeBufferPointer(rebasing: input[key])
            if bytes.elementsEqual(Self.key) { return true }
            guard bytes.contains(UInt8(ascii: "\\")) else { return false }
            return Self.decodeString(bytes) == "conversationId"
        }

        /// A JSON string literal (with its quotes) as text.
        static func decodeString(_ literal: UnsafeBufferPointer<UInt8>) -> String? {
            guard literal.contains(UInt8(ascii: "\\")) else {
                return String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
            }
            return try? JSONSerialization.jsonObject(with: Data(literal), options: [.fragmentsAllowed]) as? String
        }
    }
}
