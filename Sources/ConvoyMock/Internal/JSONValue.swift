/// A JSON value with *ordered* object members, serialised by hand so that the bytes are fully deterministic
/// (`JSONSerialization` neither keeps insertion order nor promises stable output).
enum JSONValue {
    case string(String)
    case int(Int)
    /// Written in Swift's shortest round-tripping form (`4.12`, `3.0`); a non-finite value is written as `null`.
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// Compact UTF-8 bytes: no whitespace at all.
    func compactBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        write(into: &output, indent: nil)
        return output
    }

    /// Pretty-printed UTF-8 bytes: one member per line, 2-space indentation, `"key": value`.
    func prettyBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(8192)
        write(into: &output, indent: 0)
        return output
    }

    /// Writes this value; `indent` is the current depth when pretty-printing, `nil` for compact output.
    private func write(into output: inout [UInt8], indent: Int?) {
        switch self {
        case .string(let text):
            Self.writeString(text, into: &output)
        case .int(let number):
            output.append(contentsOf: String(number).utf8)
        case .double(let number):
            output.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null:
            output.append(contentsOf: "null".utf8)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.newline(into: &output, depth: indent.map { $0 + 1 })
                element.write(into: &output, indent: indent.map { $0 + 1 })
            }
            if !elements.isEmpty { Self.newline(into: &output, depth: indent) }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.newline(into: &output, depth: indent.map { $0 + 1 })
                Self.writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                if indent != nil { output.append(UInt8(ascii: " ")) }
                member.value.write(into: &output, indent: indent.map { $0 + 1 })
            }
            if !members.isEmpty { Self.newline(into: &output, depth: indent) }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(into output: inout [UInt8], depth: Int?) {
        guard let depth else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes `text` as a JSON string: `"` `\\` and control characters escaped, everything else raw UTF-8.
    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var needsEscaping = false
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                needsEscaping = true
                break
            }
            guard needsEscaping else {
                output.append(contentsOf: utf8)  // the common case: nothing to escape
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    output.append(UInt8(ascii: "\\"))
                    output.append(byte)
                case UInt8(ascii: "\n"):
                    output.append(UInt8(ascii: "\\"))
                    output.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"):
                    output.append(UInt8(ascii: "\\"))
                    output.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"):
                    output.append(UInt8(ascii: "\\"))
                    output.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    output.append(contentsOf: "\\u00".utf8)
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0xF)])
                default:
                    output.append(byte)
                }
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// The value of member `key` when this is an object that has it (the first one, should a key repeat).
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The text when this is a string.
    var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The number when this is an integer.
    var intValue: Int? {
        guard case .int(let number) = self else { return nil }
        return number
    }

    /// The flag when this is a boolean.
    var boolValue: Bool? {
        guard case .bool(let flag) = self else { return nil }
        return flag
    }

    /// The elements when this is an array.
    var arrayValue: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
}
