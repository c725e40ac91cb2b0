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
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        let valid =
            bytes.withContiguousStorageIfAvailable { buffer in
                var parser = Parser(input: buffer)
                return parser.document(into: &output)
            }
            ?? {
                let array = Array(bytes)
                return array.withUnsafeBufferPointer { buffer in
                    var parser = Parser(input: buffer)
                    return parser.document(into: &output)
                }
            }()
        guard valid, String(validating: output, as: UTF8.self) != nil else { return nil }
        return output
    }

    private struct Parser {
        let input: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func document(into output: inout [UInt8]) -> Bool {
            skipWhitespace()
            guard value(into: &output, depth: 0) else { return false }
            skipWhitespace()
            return index == input.count
        }

        private mutating func skipWhitespace() {
            while index < input.count {
                switch input[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private mutating func value(into output: inout [UInt8], depth: Int) -> Bool {
            guard index < input.count, depth <= JSONCompactor.maximumDepth else { return false }
            switch input[index] {
            case UInt8(ascii: "{"): return container(into: &output, depth: depth, close: UInt8(ascii: "}"), keyed: true)
            case UInt8(ascii: "["):
                return container(into: &output, depth: depth, close: UInt8(ascii: "]"), keyed: false)
            case UInt8(ascii: "\""): return string(into: &output)
            case UInt8(ascii: "t"): return literal("true", into: &output)
            case UInt8(ascii: "f"): return literal("false", into: &output)
            case UInt8(ascii: "n"): return literal("null", into: &output)
            default: return number(into: &output)
            }
        }

        private mutating func container(into output: inout [UInt8], depth: Int, close: UInt8, keyed: Bool) -> Bool {
            output.append(input[index])
            index += 1
            skipWhitespace()
            if index < input.count, input[index] == close {
                output.append(close)
                index += 1
                return true
            }
            while true {
                skipWhitespace()
                if keyed {
                    guard index < input.count, input[index] == UInt8(ascii: "\""), string(into: &output) else {
                        return false
                    }
                    skipWhitespace()
                    guard index < input.count, input[index] == UInt8(ascii: ":") else { return false }
                    output.append(UInt8(ascii: ":"))
                    index += 1
                    skipWhitespace()
                }
                guard value(into: &output, depth: depth + 1) else { return false }
                skipWhitespace()
                guard index < input.count else { return false }
                if input[index] == UInt8(ascii: ",") {
                    output.append(UInt8(ascii: ","))
                    index += 1
                } else if input[index] == close {
                    output.append(close)
                    index += 1
                    return true
                } else {
                    return false
                }
            }
        }

        private mutating func string(into output: inout [UInt8]) -> Bool {
            let start = index
            index += 1
            while index < input.count {
                let byte = input[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<index]))
                    return true
                }
                if byte < 0x20 { return false }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < input.count else { return false }
                    switch input[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        guard index + 4 < input.count else { return false }
                        for offset in 1...4 where !isHex(input[index + offset]) { return false }
                        index += 5
                    default:
                        return false
                    }
                } else {
                    index += 1
                }
            }
            return false
        }

        private mutating func literal(_ word: StaticString, into output: inout [UInt8]) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= input.count else { return false }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            for offset in 0..<count where input[index + offset] != expected[offset] { return false }
            output.append(contentsOf: expected)
            index += count
            return true
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number(into output: inout [UInt8]) -> Bool {
            let start = index
            if peek(UInt8(ascii: "-")) { index += 1 }
            if peek(UInt8(ascii: "0")) {
                index += 1
            } else {
                guard digits() else { return false }
            }
            if peek(UInt8(ascii: ".")) {
                index += 1
                guard digits() else { return false }
            }
            if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
                index += 1
                if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
                guard digits() else { return false }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<index]))
            return true
        }

        private mutating func digits() -> Bool {
            let start = index
            while index < input.count, input[index] >= UInt8(ascii: "0"), input[index] <= UInt8(ascii: "9") {
                index += 1
            }
            return index > start
        }

        private func peek(_ byte: UInt8) -> Bool { index < input.count && input[index] == byte }

        private func isHex(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }
    }
}
