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

    /// Collects the significant bytes.
    private struct Compacted: JSONSink {
        var bytes: [UInt8] = []

        mutating func emit(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes.append(contentsOf: bytes) }
    }
}
