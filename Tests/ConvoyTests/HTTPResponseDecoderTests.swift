import Foundation
import Testing

@testable import Convoy

/// The framing rules of `HTTPResponseDecoder`, one answer's bytes at a time.
@Suite(.timeLimit(.minutes(1))) struct HTTPResponseDecoderTests {
    /// What decoding `bytes` (fed whole, then the close when `closed`) gives: the answer and
    /// whether its connection may be reused, or the error.
    static func decode(
        _ text: String, method: String = "GET", closed: Bool = false, limits: HTTPLimits = HTTPLimits()
    ) -> Result<(HTTPResponse, reusable: Bool), SocketTransportError> {
        var decoder = HTTPResponseDecoder(limits: limits, bufferSize: 64)
        decoder.begin(method: method)
        do {
            // In pieces, decoding after each, as a connection does.
            var rest = Array(text.utf8)[...]
            while !rest.isEmpty {
                try decoder.append(rest.prefix(100))
                rest = rest.dropFirst(100)
                if let response = try decoder.decode() { return .success((response, decoder.isReusable)) }
            }
            if let response = try decoder.decode() { return .success((response, decoder.isReusable)) }
            guard closed else { return .failure(.closedMidAnswer("test: the decoder wants more bytes")) }
            let response = try decoder.finish()
            return .success((response, decoder.isReusable))
        } catch let error as SocketTransportError {
            return .failure(error)
        } catch {
            return .failure(.socket(call: "test", reason: "\(error)"))
        }
    }

    static func body(_ result: Result<(HTTPResponse, reusable: Bool), SocketTransportError>) -> String? {
        guard case .success(let (response, _)) = result else { return nil }
        return String(decoding: response.body, as: UTF8.self)
    }

    static func reusable(_ result: Result<(HTTPResponse, reusable: Bool), SocketTransportError>) -> Bool? {
        guard case .success(let (_, reusable)) = result else { return nil }
        return reusable
    }

    static func error(_ result: Result<(HTTPResponse, reusable: Bool), SocketTransportError>) -> SocketTransportError? {
        guard case .failure(let error) = result else { return nil }
        return error
    }

    @Test func bytesPastTheContentLengthAreNotBodyAndPoisonTheConnection() {
        let exact = Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        #expect(Self.body(exact) == "hello")
        #expect(Self.reusable(exact) == true)
        let extra = Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n")
        #expect(Self.body(extra) == "hello", "exactly the declared length")
        #expect(Self.reusable(extra) == false, "the stray bytes belong to no request")
    }

    @Test func chunkSizesAreHexadecimal() {
        let body = String(repeating: "x", count: 26) + String(repeating: "y", count: 16)
        let result = Self.decode(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n" + body.prefix(26) + "\r\n10;x=1\r\n"
                + body.suffix(16) + "\r\n0\r\n\r\n")
        #expect(Self.body(result) == body)
        #expect(Self.reusable(result) == true)
        let upper = Self.decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n")
        #expect(Self.body(upper) == "0123456789")
    }

    @Test func aBodyAfterA204OrAHeadAnswerIsNotReadAndPoisonsTheConnection() {
        let noContent = Self.decode("HTTP/1.1 204 No Content\r\nContent-Length: 13\r\n\r\n{\"id\":\"other\"}")
        #expect(Self.body(noContent) == "")
        #expect(Self.reusable(noContent) == false)
        let head = Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", method: "HEAD")
        #expect(Self.body(head) == "")
        #expect(Self.reusable(head) == true)
        let notModified = Self.decode("HTTP/1.1 304 Not Modified\r\n\r\n")
        #expect(Self.reusable(notModified) == true)
    }

    @Test(arguments: [
        "Content-Length: 9223372036854775807", "Content-Length: 99999999999999999999999999",
        "Content-Length: 8388609",
    ])
    func aDeclaredLengthAboveTheLimitFailsBeforeAnyBodyIsRead(field: String) {
        let result = Self.decode("HTTP/1.1 200 OK\r\n\(field)\r\n\r\nabc")
        #expect(Self.error(result) == .responseTooLarge(limit: 8 << 20))
    }

    @Test(arguments: ["7fffffffffffffff", "ffffffffffffffffffffffff", "800001"])
    func aChunkSizeAboveTheLimitFailsBeforeAnyChunkIsRead(size: String) {
        let result = Self.decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nabc")
        #expect(Self.error(result) == .responseTooLarge(limit: 8 << 20))
    }

    @Test func aBodyGrowingPastTheLimitFailsAtTheLimit() {
        let limits = HTTPLimits(maxResponseBytes: 100)
        let chunk = "32\r\n" + String(repeating: "z", count: 50) + "\r\n"
        let chunked = Self.decode(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk, limits: limits)
        #expect(Self.error(chunked) == .responseTooLarge(limit: 100))
        let closeDelimited = Self.decode(
            "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "z", count: 101), closed: true, limits: limits)
        #expect(Self.error(closeDelimited) == .responseTooLarge(limit: 100))
        let fits = Self.decode(
            "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "z", count: 100), closed: true, limits: limits)
        #expect(Self.body(fits)?.count == 100)
        #expect(Self.reusable(fits) == false, "a body ended by the close ends the connection")
    }

    @Test(arguments: [
        ("Content-Length: +5", "Content-Length \"+5\""), ("Content-Length: 5 5", "Content-Length \"5 5\""),
        ("Content-Length: 0x5", "Content-Length \"0x5\""), ("Content-Length: 5, 6", "Content-Length \"5, 6\""),
        ("Content-Length: -1", "Content-Length \"-1\""), ("Transfer-Encoding: gzip", "transfer coding \"gzip\""),
        ("Transfer-Encoding: gzip, chunked", "transfer coding \"gzip, chunked\""),
        ("Bad Name: x", "header line \"Bad Name: x\""), ("Name : x", "header line \"Name : x\""),
        (": x", "header line \": x\""),
    ])
    func framingFieldsOutsideTheGrammarAreRefused(field: String, detail: String) {
        #expect(Self.error(Self.decode("HTTP/1.1 200 OK\r\n\(field)\r\n\r\nhello")) == .malformedAnswer(detail))
    }

    @Test(arguments: ["+5", "-0", " 5", "0x5", "g", ""])
    func chunkSizesOutsideHexDigitsAreRefused(size: String) {
        let result = Self.decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n")
        #expect(Self.error(result) == .malformedAnswer("chunk size \"\(size)\""))
    }

    @Test func repeatedLengthsThatAgreeAreOneLength() {
        let result = Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
        #expect(Self.body(result) == "hello")
    }

    @Test func transferEncodingWithAContentLengthFramesByChunksAndEndsTheConnection() {
        let result = Self.decode(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        #expect(Self.body(result) == "hello")
        #expect(Self.reusable(result) == false)
    }

    @Test func interimAnswersAreSkippedUpToTheLimit() {
        let two = Self.decode(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        #expect(Self.body(two) == "ok")
        let endless = String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 9)
        #expect(
            Self.error(Self.decode(endless)) == .malformedAnswer("more than 8 interim 1xx answers before the final one")
        )
        #expect(
            Self.error(Self.decode("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"))
                == .malformedAnswer("101 Switching Protocols, though no upgrade was asked for"))
    }

    @Test func bareLineFeedsAndFoldedFieldsAreRead() {
        let result = Self.decode("HTTP/1.1 200 OK\nX-Long: one\n  two\nContent-Length: 2\n\nok")
        guard case .success(let (response, reusable)) = result else {
            Issue.record("not decoded: \(result)")
            return
        }
        #expect(response.headers["x-long"] == "one two")
        #expect(String(decoding: response.body, as: UTF8.self) == "ok")
        #expect(reusable)
        #expect(
            Self.error(Self.decode("HTTP/1.1 200 OK\r\n  folded: first\r\n\r\n"))
                == .malformedAnswer("whitespace before the first header field"))
    }

    @Test(arguments: [
        "HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 Low", "http/1.1 200 OK",
        "SSH-2.0-OpenSSH_9.2",
        "HTTP/1.1  200 OK",
    ])
    func statusLinesOutsideTheGrammarAreRefused(line: String) {
        #expect(
            Self.error(Self.decode("\(line)\r\nContent-Length: 0\r\n\r\n"))
                == .malformedAnswer("status line \"\(line)\""))
    }

    @Test func aStatusLineWithoutAReasonIsRead() {
        #expect(Self.body(Self.decode("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx")) == "x")
        #expect(Self.body(Self.decode("HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx")) == "x")
    }

    @Test func headsAndHeaderCountsAreBounded() {
        let limits = HTTPLimits(maxHeadBytes: 1024, maxHeaderFields: 10)
        let long = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 2000) + "\r\n\r\n"
        #expect(Self.error(Self.decode(long, limits: limits)) == .malformedAnswer("a head longer than 1024 bytes"))
        let endless = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 2000)
        #expect(Self.error(Self.decode(endless, limits: limits)) == .malformedAnswer("a head longer than 1024 bytes"))
        let many = "HTTP/1.1 200 OK\r\n" + (0..<11).map { "X-\($0): y\r\n" }.joined() + "\r\n"
        #expect(Self.error(Self.decode(many, limits: limits)) == .malformedAnswer("more than 10 header fields"))
        let values = ["X: a\u{0}b", "X: a\rb"]
        for field in values {
            #expect(
                Self.error(Self.decode("HTTP/1.1 200 OK\r\n\(field)\r\n\r\n"))
                    == .malformedAnswer("a header value holding CR or NUL"))
        }
    }

    @Test func keepAliveFollowsTheVersionAndConnectionField() {
        #expect(
            Self.reusable(Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")) == false)
        #expect(Self.reusable(Self.decode("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")) == false)
        #expect(
            Self.reusable(Self.decode("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")) == true
        )
        #expect(
            Self.error(Self.decode("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
                == .malformedAnswer("Transfer-Encoding in an HTTP/1.0 answer"))
    }

    @Test func aCloseSaysHowMuchOfTheAnswerCame() {
        #expect(Self.error(Self.decode("", closed: true)) == .closedBeforeAnswer)
        #expect(Self.error(Self.decode("HTTP/1.1 200 OK\r\n", closed: true)) == .closedMidAnswer("in the head"))
        #expect(
            Self.error(Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", closed: true))
                == .closedMidAnswer("3 of 10 bytes of the body"))
        #expect(
            Self.error(Self.decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", closed: true))
                == .closedMidAnswer("in a chunk, after 2 bytes of the body"))
    }

    @Test func aLongTrailerIsBounded() {
        let limits = HTTPLimits(maxHeadBytes: 100)
        let trailer = (0..<20).map { "T\($0): 0123456789\r\n" }.joined()
        let result = Self.decode(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailer + "\r\n", limits: limits)
        #expect(Self.error(result) == .malformedAnswer("a trailer longer than 100 bytes"))
    }
}
