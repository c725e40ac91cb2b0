/// Validates a JSON document and removes the insignificant whitespace, keeping everything else
/// byte for byte: key order, number spelling and string escapes stay exactly as the server sent them.
///
/// The result never contains a raw newline (JSON forbids control characters inside strings, and
/// whitespace between tokens is dropped), so it is safe as one NDJSON line. Nesting deeper than
/// ``maximumDepth`` is rejected rather than risking the stack.
public enum JSONCompactor {
    /// Containers nested deeper than this are refused.
    public static let maximumDepth = 512

    /// The compacted document, or nil when `bytes` is not exactly one valid JSON value in UTF-8
    /// (a truncated body, HTML from a proxy, trailing garbage).
    public static func compact(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        var sink = Compacted()
        sink.bytes.reserveCapacity(bytes.count)
        func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
            var parser = JSONParser(input: buffer, sink: sink)
            guard parser.document() else { return nil }
            return parser.sink.bytes
        }
        let output = bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
        guard let output, String(validating: output, as: UTF8.self) != nil else { return nil }
        return output
    }

    /// A compacted document and what ``compact(_:collecting:)`` found in it.
    public struct Scanned: Sendable, Equatable {
        /// The compacted document.
        public var bytes: [UInt8]
        /// The value of each member named by the key, at the top level of an object document or
        /// in the objects directly inside an array document, in order: the string itself for a
        /// string, the JSON text for anything else.
        public var values: [String]

        /// True when the document is a JSON object.
        public var isObject: Bool { bytes.first == UInt8(ascii: "{") }
        /// True when the document is a JSON array.
        public var isArray: Bool { bytes.first == UInt8(ascii: "[") }
    }

    /// Like ``compact(_:)``, in the same pass, collecting the values of members named `key` one
    /// object level down (see ``Scanned/values``), as the engine does to check an answer's `id`.
    public static func compact(_ bytes: some Collection<UInt8>, collecting key: String) -> Scanned? {
        var sink = Compacted()
        sink.bytes.reserveCapacity(bytes.count)
        sink.wanted = Array("\"\(key)\"".utf8)
        func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> Scanned? {
            var scanning = sink
            scanning.input = buffer
            var parser = JSONParser(input: buffer, sink: scanning)
            guard parser.document() else { return nil }
            let values = parser.sink.found.map { range -> String in
                let text = buffer[range]
                guard text.first == UInt8(ascii: "\""), text.count >= 2, !text.contains(UInt8(ascii: "\\")) else {
                    return String(decoding: text, as: UTF8.self)
                }
                return String(decoding: text.dropFirst().dropLast(), as: UTF8.self)
            }
            return Scanned(bytes: parser.sink.bytes, values: values)
        }
        let output = bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
        guard let output, String(validating: output.bytes, as: UTF8.self) != nil else { return nil }
        return output
    }

    /// Collects the significant bytes and, when `wanted` is set, the value ranges of members with
    /// that key (quotes included) in objects at depth 1.
    private struct Compacted: JSONSink {
        var bytes: [UInt8] = []
        var wanted: [UInt8] = []
        var depth = 0
        var found: [Range<Int>] = []
        var input: UnsafeBufferPointer<UInt8>?

        mutating func emit(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes.append(contentsOf: bytes) }
        mutating func objectStarted(at offset: Int) { depth += 1 }
        mutating func objectEnded(at offset: Int) { depth -= 1 }

        mutating func member(key: Range<Int>, value: Range<Int>) {
            guard depth == 1, !wanted.isEmpty, let input, input[key].elementsEqual(wanted) else { return }
            found.append(value)
        }
    }
}
