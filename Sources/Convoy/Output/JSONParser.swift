/// What a ``JSONParser`` tells as it validates: the significant bytes (for compaction) and the
/// shape (for a scan that needs to know where objects and members are). Every method has a no-op
/// default, and the parser is generic over its sink, so a sink pays only for what it implements.
protocol JSONSink {
    /// Significant bytes, in order: the input without insignificant whitespace.
    mutating func emit(_ bytes: UnsafeBufferPointer<UInt8>)
    /// An object opened at `offset` (its `{`).
    mutating func objectStarted(at offset: Int)
    /// An object closed at `offset` (its `}`).
    mutating func objectEnded(at offset: Int)
    /// A member's key (with the quotes) was read; its value comes next.
    mutating func memberStarted(key: Range<Int>)
    /// A member of the innermost open object was read: its key (with the quotes) and its value.
    mutating func member(key: Range<Int>, value: Range<Int>)
}

extension JSONSink {
    mutating func emit(_ bytes: UnsafeBufferPointer<UInt8>) {}
    mutating func objectStarted(at offset: Int) {}
    mutating func objectEnded(at offset: Int) {}
    mutating func memberStarted(key: Range<Int>) {}
    mutating func member(key: Range<Int>, value: Range<Int>) {}
}

/// A strict RFC 8259 parser over bytes in memory that builds nothing: it checks the grammar and
/// tells its ``JSONSink`` what it passes. Nesting deeper than ``JSONCompactor/maximumDepth`` is
/// refused rather than risking the stack. UTF-8 validity is left to the caller.
struct JSONParser<Sink: JSONSink> {
    let input: UnsafeBufferPointer<UInt8>
    var sink: Sink
    private(set) var index = 0

    init(input: UnsafeBufferPointer<UInt8>, sink: Sink) {
        self.input = input
        self.sink = sink
    }

    /// Exactly one value, with optional whitespace around it.
    mutating func document() -> Bool {
        skipWhitespace()
        guard value(depth: 0) else { return false }
        skipWhitespace()
        return index == input.count
    }

    /// Any number of values separated by whitespace (NDJSON is one such sequence).
    mutating func sequence() -> Bool {
        skipWhitespace()
        while index < input.count {
            guard value(depth: 0) else { return false }
            let end = index
            skipWhitespace()
            // Two values must be apart: `1 2` is a sequence, `12` one number, `{}{}` is refused.
            if index < input.count, index == end { return false }
        }
        return true
    }

    private mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func emit(_ range: Range<Int>) {
        sink.emit(UnsafeBufferPointer(rebasing: input[range]))
    }

    private mutating func value(depth: Int) -> Bool {
        guard index < input.count, depth <= JSONCompactor.maximumDepth else { return false }
        switch input[index] {
        case UInt8(ascii: "{"): return container(depth: depth, close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): return container(depth: depth, close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func container(depth: Int, close: UInt8, keyed: Bool) -> Bool {
        let open = index
        if keyed { sink.objectStarted(at: open) }
        emit(index..<index + 1)
        index += 1
        skipWhitespace()
        if index < input.count, input[index] == close {
            emit(index..<index + 1)
            if keyed { sink.objectEnded(at: index) }
            index += 1
            return true
        }
        while true {
            skipWhitespace()
            var key = 0..<0
            if keyed {
                let keyStart = index
                guard index < input.count, input[index] == UInt8(ascii: "\""), string() else { return false }
                key = keyStart..<index
                skipWhitespace()
                guard index < input.count, input[index] == UInt8(ascii: ":") else { return false }
                emit(index..<index + 1)
                index += 1
                skipWhitespace()
                sink.memberStarted(key: key)
            }
            let valueStart = index
            guard value(depth: depth + 1) else { return false }
            if keyed { sink.member(key: key, value: valueStart..<index) }
            skipWhitespace()
            guard index < input.count else { return false }
            if input[index] == UInt8(ascii: ",") {
                emit(index..<index + 1)
                index += 1
            } else if input[index] == close {
                emit(index..<index + 1)
                if keyed { sink.objectEnded(at: index) }
                index += 1
                return true
            } else {
                return false
            }
        }
    }

    private mutating func string() -> Bool {
        let start = index
        index += 1
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                emit(start..<index)
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

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= input.count else { return false }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where input[index + offset] != expected[offset] { return false }
        emit(index..<index + count)
        index += count
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() -> Bool {
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
        emit(start..<index)
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
