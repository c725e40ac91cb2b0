import Foundation

/// Decodes HTTP/1.1 answers (RFC 9112) from bytes as they arrive, one exchange at a time, within
/// ``HTTPLimits``. It does no I/O: the connection hands it bytes (``receive(_:)``), asks for the
/// answer (``decode()``), and at the peer's close asks once more (``finish()``). Pure, so the fuzz
/// test can feed it any byte stream split at any points.
///
/// Framing (RFC 9112 §6): no body for 1xx, 204, 304 and an answer to `HEAD`; else the
/// `chunked` transfer coding, else `Content-Length`, else the body runs to the close. Interim 1xx
/// answers are skipped, at most ``HTTPLimits/maxInterimResponses`` of them.
///
/// A connection may carry another request only when ``isReusable``: the answer was framed (by
/// length or chunks), neither side said `close`, it was read exactly to its end, and no byte past
/// that end has arrived. Bytes after an answer, such as a body sent after a 204 or a response
/// nobody asked for, can only belong to no request; they poison the connection rather than be
/// read as the next request's answer.
///
/// Lenient forms accepted, each because deployed servers send it and it cannot be misread:
/// - a bare LF as a line end, in the head, chunk lines and trailers (RFC 9112 §2.2 allows it);
/// - obs-fold (a field line continued by a line starting with SP or HTAB), replaced by one SP as
///   §5.2 tells a user agent to do;
/// - a status line without a reason phrase, with or without the space before it;
/// - a repeated `Content-Length` whose copies agree (RFC 9110 §8.6);
/// - whitespace (BWS) between a chunk size and its extensions, which are ignored;
/// - `Transfer-Encoding` with `Content-Length`: the chunks frame the body and the connection is
///   closed after it (§6.1: the pair may be a smuggling attempt).
///
/// Refused as ``SocketTransportError/malformedAnswer(_:)``: a sign or space in `Content-Length` or a
/// chunk size (`+5`, `-0`, `0x1a`: `1*DIGIT` and `1*HEXDIG` only), disagreeing lengths, a coding
/// other than `chunked` alone, `Transfer-Encoding` in an HTTP/1.0 answer, a field name with
/// whitespace or other non-token characters, CR or NUL in a field value, a version other than
/// `HTTP/1.x`, `101` (nothing asked to switch protocols), a head over the limit.
struct HTTPResponseDecoder {
    let limits: HTTPLimits
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var state = State.idle
    private var method = "GET"
    /// Bytes received since the exchange began: 0 means the peer sent nothing of an answer.
    private(set) var answerBytes = 0
    private var interimAnswers = 0
    /// Where the current line starts and how far the search for its end went, both from `start`.
    private var lineStart = 0
    private var scanned = 0
    /// The current answer's pieces.
    private var status = 0
    private var headers = HTTPHeaders()
    private var keepAlive = false
    private var mustClose = false
    private var declaredLength = 0
    private var body = Data()
    private var bodyCapacity = 0
    private var trailerBytes = 0

    private enum State: Equatable {
        case idle, head, fixed(remaining: Int), chunkSize, chunkData(remaining: Int), chunkEnd, trailer, untilClose
        case done(reusable: Bool)
    }

    /// The longest chunk-size or trailer line.
    static let maximumLineBytes = 8192

    init(limits: HTTPLimits, bufferSize: Int = 64 * 1024) {
        self.limits = limits
        buffer = [UInt8](repeating: 0, count: max(bufferSize, 16))
    }

    /// Starts a new exchange for a request with `method`. Bytes already received stay, and count as
    /// the start of its answer (on a connection that stays reusable there are none).
    mutating func begin(method: String) {
        self.method = method
        state = .head
        answerBytes = end - start
        interimAnswers = 0
        lineStart = 0
        scanned = 0
    }

    /// True when the last answer was decoded to its end and its connection may carry another request.
    var isReusable: Bool { state == .done(reusable: true) && start == end }

    /// Bytes received but not yet decoded.
    var unreadBytes: Int { end - start }

    /// Lets `read` put bytes into free space at the buffer's end; returns what it read (0 at the close).
    mutating func receive(_ read: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Int {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            } else {
                // Only a head or a line can fill the buffer (body bytes leave it at each `decode`),
                // and both are bounded, so the buffer is too.
                guard buffer.count < limits.maxHeadBytes + Self.maximumLineBytes else {
                    throw SocketTransportError.malformedAnswer("a head longer than \(limits.maxHeadBytes) bytes")
                }
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        let count = try buffer.withUnsafeMutableBytes { raw in
            try read(UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        if count > 0 {
            end += count
            answerBytes += count
        }
        return max(0, count)
    }

    /// Appends `bytes` as if they had been received (tests and fuzzing).
    mutating func append(_ bytes: some Collection<UInt8>) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            _ = try receive { space in
                let count = min(space.count, rest.count)
                space.copyBytes(from: rest.prefix(count))
                rest = rest.dropFirst(count)
                return count
            }
        }
    }

    /// Decodes as far as the bytes received allow: the final answer once it is complete, else nil.
    mutating func decode() throws -> HTTPResponse? {
        while true {
            switch state {
            case .idle, .done:
                return nil
            case .head:
                guard let head = try nextHead() else { return nil }
                try accept(head: head)
            case .fixed(let remaining):
                let take = min(remaining, end - start)
                try appendBody(count: take)
                guard take == remaining else {
                    state = .fixed(remaining: remaining - take)
                    return nil
                }
                return complete(framed: true)
            case .chunkSize:
                guard let line = try nextLine(what: "a chunk size") else { return nil }
                let size = try Self.chunkSize(
                    line, room: limits.maxResponseBytes - body.count, limit: limits.maxResponseBytes)
                state = size == 0 ? .trailer : .chunkData(remaining: size)
                trailerBytes = 0
            case .chunkData(let remaining):
                let take = min(remaining, end - start)
                try appendBody(count: take)
                guard take == remaining else {
                    state = .chunkData(remaining: remaining - take)
                    return nil
                }
                state = .chunkEnd
            case .chunkEnd:
                guard let line = try nextLine(what: "a chunk's end") else { return nil }
                guard line.isEmpty else { throw SocketTransportError.malformedAnswer("a chunk longer than its size") }
                state = .chunkSize
            case .trailer:
                guard let line = try nextLine(what: "the trailer") else { return nil }
                if line.isEmpty { return complete(framed: true) }
                trailerBytes += line.count + 2
                guard trailerBytes <= limits.maxHeadBytes else {
                    throw SocketTransportError.malformedAnswer("a trailer longer than \(limits.maxHeadBytes) bytes")
                }
            case .untilClose:
                try appendBody(count: end - start)
                return nil
            }
        }
    }

    /// At the peer's close: the answer if its body runs to the close, else why it is incomplete.
    mutating func finish() throws -> HTTPResponse {
        if let response = try decode() { return response }
        switch state {
        case .untilClose:
            return complete(framed: false)
        case .head where answerBytes == 0:
            throw SocketTransportError.closedBeforeAnswer
        case .head, .idle, .done:
            throw SocketTransportError.closedMidAnswer("in the head")
        case .fixed(let remaining):
            throw SocketTransportError.closedMidAnswer(
                "\(declaredLength - remaining) of \(declaredLength) bytes of the body")
        case .chunkSize, .chunkData, .chunkEnd:
            throw SocketTransportError.closedMidAnswer("in a chunk, after \(body.count) bytes of the body")
        case .trailer:
            throw SocketTransportError.closedMidAnswer("in the trailer")
        }
    }

    // MARK: - Head

    /// The lines of the next head (status line first), without their ends, once its empty line is in.
    private mutating func nextHead() throws -> [ArraySlice<UInt8>]? {
        while true {
            let from = start + scanned
            guard let newline = buffer[from..<end].firstIndex(of: 10) else {
                scanned = end - start
                guard end - start <= limits.maxHeadBytes else {
                    throw SocketTransportError.malformedAnswer("a head longer than \(limits.maxHeadBytes) bytes")
                }
                return nil
            }
            guard newline - start <= limits.maxHeadBytes else {
                throw SocketTransportError.malformedAnswer("a head longer than \(limits.maxHeadBytes) bytes")
            }
            let lineEnd = newline > start + lineStart && buffer[newline - 1] == 13 ? newline - 1 : newline
            let isEmpty = lineEnd == start + lineStart
            let isFirst = lineStart == 0
            scanned = newline + 1 - start
            lineStart = scanned
            guard isEmpty else { continue }
            if isFirst {
                throw SocketTransportError.malformedAnswer("an empty line where the status line belongs")
            }
            // The head is complete: split it into lines.
            var lines: [ArraySlice<UInt8>] = []
            var cursor = start
            while true {
                let stop = buffer[cursor...newline].firstIndex(of: 10)!
                if stop == newline { break }  // the empty line, which ends the head
                let trimmed = stop > cursor && buffer[stop - 1] == 13 ? stop - 1 : stop
                lines.append(buffer[cursor..<trimmed])
                cursor = stop + 1
            }
            start = newline + 1
            lineStart = 0
            scanned = 0
            return lines
        }
    }

    /// Takes a complete head; after an interim answer the state stays `.head` for the final one.
    private mutating func accept(head lines: [ArraySlice<UInt8>]) throws {
        let (minor, code) = try Self.statusLine(lines[0])
        var fields: [(String, String)] = []
        for line in lines.dropFirst() {
            if line.first == 32 || line.first == 9 {  // obs-fold: continues the field above
                guard let last = fields.popLast() else {
                    throw SocketTransportError.malformedAnswer("whitespace before the first header field")
                }
                fields.append((last.0, last.1 + " " + (try Self.fieldValue(line))))
                continue
            }
            fields.append(try Self.field(line))
            guard fields.count <= limits.maxHeaderFields else {
                throw SocketTransportError.malformedAnswer("more than \(limits.maxHeaderFields) header fields")
            }
        }
        if code == 101 {
            throw SocketTransportError.malformedAnswer("101 Switching Protocols, though no upgrade was asked for")
        }
        if code < 200 {
            interimAnswers += 1
            guard interimAnswers <= limits.maxInterimResponses else {
                throw SocketTransportError.malformedAnswer(
                    "more than \(limits.maxInterimResponses) interim 1xx answers before the final one")
            }
            return
        }
        status = code
        headers = HTTPHeaders(fields)
        let options = Self.list(headers["connection"]?.lowercased())
        keepAlive = minor == 0 ? options.contains("keep-alive") : !options.contains("close")
        mustClose = false
        body = Data()
        bodyCapacity = 0
        if method == "HEAD" || code == 204 || code == 304 {
            state = .fixed(remaining: 0)
            declaredLength = 0
            return
        }
        let length = headers["content-length"]
        if let coding = headers["transfer-encoding"] {
            guard minor > 0 else {
                throw SocketTransportError.malformedAnswer("Transfer-Encoding in an HTTP/1.0 answer")
            }
            guard Self.list(coding.lowercased()) == ["chunked"] else {
                throw SocketTransportError.malformedAnswer("transfer coding \"\(coding.prefix(40))\"")
            }
            mustClose = length != nil
            state = .chunkSize
            return
        }
        guard let length else {
            state = .untilClose
            return
        }
        declaredLength = try Self.contentLength(length, limit: limits.maxResponseBytes)
        reserve(declaredLength)
        state = .fixed(remaining: declaredLength)
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]` → (x, status).
    private static func statusLine(_ line: ArraySlice<UInt8>) throws -> (Int, Int) {
        let bytes = Array(line)
        func refuse() -> SocketTransportError {
            .malformedAnswer("status line \"\(String(decoding: bytes.prefix(60), as: UTF8.self))\"")
        }
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/1.".utf8)), isDigit(bytes[7]), bytes[8] == 32,
            bytes[9...11].allSatisfy(isDigit), bytes.count == 12 || bytes[12] == 32
        else { throw refuse() }
        guard !bytes.contains(0), !bytes.contains(13) else { throw refuse() }
        let code = bytes[9...11].reduce(0) { $0 * 10 + Int($1 - 48) }
        guard code >= 100 else { throw refuse() }
        return (Int(bytes[7] - 48), code)
    }

    /// `name ":" OWS value OWS`, the name a token.
    private static func field(_ line: ArraySlice<UInt8>) throws -> (String, String) {
        guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
            line[..<colon].allSatisfy(isTokenCharacter)
        else {
            throw SocketTransportError.malformedAnswer("header line \"\(printable(line))\"")
        }
        return (String(decoding: line[..<colon], as: UTF8.self), try fieldValue(line[(colon + 1)...]))
    }

    private static func fieldValue(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard !bytes.contains(0), !bytes.contains(13) else {
            throw SocketTransportError.malformedAnswer("a header value holding CR or NUL")
        }
        return String(decoding: bytes, as: UTF8.self).trimmingASCIISpaces()
    }

    /// `1*DIGIT`, repeated copies allowed when they agree; above `limit` fails as too large.
    private static func contentLength(_ text: String, limit: Int) throws -> Int {
        let copies = Set(list(text))
        guard copies.count == 1, let digits = copies.first, !digits.isEmpty, digits.utf8.allSatisfy(isDigit) else {
            throw SocketTransportError.malformedAnswer("Content-Length \"\(text.prefix(40))\"")
        }
        var value = 0
        for digit in digits.utf8 {
            value = try grow(value, by: 10, adding: Int(digit - 48), within: limit, limit: limit)
        }
        return value
    }

    /// `1*HEXDIG [BWS ";" extensions]` → the size, which must fit in `room`.
    private static func chunkSize(_ line: ArraySlice<UInt8>, room: Int, limit: Int) throws -> Int {
        var value = 0
        var digits = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            value = try grow(value, by: 16, adding: digit, within: room, limit: limit)
            digits += 1
            index += 1
        }
        while index < line.endIndex, line[index] == 32 || line[index] == 9 { index += 1 }
        guard digits > 0, index == line.endIndex || line[index] == 59 else {
            throw SocketTransportError.malformedAnswer("chunk size \"\(printable(line.prefix(20)))\"")
        }
        return value
    }

    /// `value × base + digit`, which must not pass `bound`: a length that would is too large,
    /// however many digits follow, and no arithmetic overflows on the way.
    private static func grow(_ value: Int, by base: Int, adding digit: Int, within bound: Int, limit: Int) throws -> Int
    {
        let (shifted, overflowA) = value.multipliedReportingOverflow(by: base)
        let (next, overflowB) = shifted.addingReportingOverflow(digit)
        guard !overflowA, !overflowB, next <= bound else { throw SocketTransportError.responseTooLarge(limit: limit) }
        return next
    }

    // MARK: - Body

    private mutating func nextLine(what: String) throws -> ArraySlice<UInt8>? {
        // A line is shorter than `maximumLineBytes` wherever the bytes were split.
        let newline = buffer[start..<end].firstIndex(of: 10)
        guard (newline ?? end) - start < Self.maximumLineBytes else {
            throw SocketTransportError.malformedAnswer("\(what) line too long")
        }
        guard let newline else { return nil }
        let lineEnd = newline > start && buffer[newline - 1] == 13 ? newline - 1 : newline
        defer { start = newline + 1 }
        return buffer[start..<lineEnd]
    }

    private mutating func appendBody(count: Int) throws {
        guard count > 0 else { return }
        guard body.count + count <= limits.maxResponseBytes else {
            throw SocketTransportError.responseTooLarge(limit: limits.maxResponseBytes)
        }
        let needed = body.count + count
        if needed > bodyCapacity {
            // Small bodies double from 16 KiB; past 64 KiB the storage jumps to 8 MiB at once, a
            // mapping backed only by the pages written, so that an endless body is never copied
            // into a larger buffer with the old one still held (which once doubled a run's memory).
            let floor = needed <= 64 << 10 ? 16 << 10 : 8 << 20
            reserve(min(max(needed, bodyCapacity * 2, floor), limits.maxResponseBytes))
        }
        body.append(contentsOf: buffer[start..<(start + count)])
        start += count
    }

    /// Grows the body's storage to exactly `capacity`, so that growth never overshoots the limit.
    private mutating func reserve(_ capacity: Int) {
        guard capacity > bodyCapacity else { return }
        var grown = Data(capacity: capacity)
        grown.append(body)
        body = grown
        bodyCapacity = capacity
    }

    private mutating func complete(framed: Bool) -> HTTPResponse {
        state = .done(reusable: framed && keepAlive && !mustClose)
        let response = HTTPResponse(status: status, headers: headers, body: body)
        body = Data()
        bodyCapacity = 0
        return response
    }

    // MARK: - Characters

    /// The elements of a comma-separated field value (RFC 9110 §5.6.1), trimmed.
    static func list(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: Int(byte - 48)
        case 65...70: Int(byte - 55)
        case 97...102: Int(byte - 87)
        default: nil
        }
    }

    /// RFC 9110 §5.6.2 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    private static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        String(bytes.prefix(60).map { $0 >= 32 && $0 < 127 ? Character(Unicode.Scalar($0)) : "?" })
    }
}
