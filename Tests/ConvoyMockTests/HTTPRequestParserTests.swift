import Testing

@testable import ConvoyMock

@Suite("HTTPRequestParser and TimerHeap", .timeLimit(.minutes(1)))
struct HTTPRequestParserTests {
    private func parse(_ text: String) -> HTTPRequestParser.Result {
        HTTPRequestParser.parse(Array(text.utf8), from: 0)
    }

    @Test("parses back-to-back requests with bodies and keep-alive rules")
    func backToBack() throws {
        let text =
            "POST /a?x=1 HTTP/1.1\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabcGET /b HTTP/1.0\r\n\r\n"
        let bytes = Array(text.utf8)
        guard case .request(let first, let consumed) = HTTPRequestParser.parse(bytes, from: 0) else {
            Issue.record("first request not parsed")
            return
        }
        #expect(first.method == "POST" && first.target == "/a?x=1" && first.path == "/a")
        #expect(first.body == Array("abc".utf8) && first.keepAlive)
        guard case .request(let second, let rest) = HTTPRequestParser.parse(bytes, from: consumed) else {
            Issue.record("second request not parsed")
            return
        }
        #expect(second.method == "GET" && !second.keepAlive)  // HTTP/1.0 without keep-alive
        #expect(consumed + rest == bytes.count)
    }

    @Test("incomplete heads and bodies wait for more bytes")
    func incomplete() {
        if case .incomplete = parse("GET / HTTP/1.1\r\nHost: x\r\n") {} else { Issue.record("head") }
        if case .awaitingBody(false) = parse("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab") {
        } else {
            Issue.record("body")
        }
        if case .awaitingBody(true) = parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n") {
        } else {
            Issue.record("expect")
        }
    }

    @Test("rejects what it does not support")
    func invalid() {
        if case .invalid(400, _) = parse("GARBAGE\r\n\r\n") {} else { Issue.record("garbage") }
        if case .invalid(501, _) = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") {
        } else {
            Issue.record("chunked")
        }
        if case .invalid(413, _) = parse("POST / HTTP/1.1\r\nContent-Length: 600000\r\n\r\n") {
        } else {
            Issue.record("too large")
        }
        if case .invalid(400, _) = parse("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n") {
        } else {
            Issue.record("length")
        }
        if case .request(let request, _) = parse("GET / HTTP/1.1\r\nconnection: Close\r\n\r\n") {
            #expect(!request.keepAlive)
        } else {
            Issue.record("close")
        }
    }

    @Test("timer heap pops in deadline order, FIFO on ties")
    func timerHeap() {
        var heap = TimerHeap()
        let deadlines: [UInt64] = [50, 10, 40, 10, 30, 20, 60, 0]
        for (index, deadline) in deadlines.enumerated() {
            heap.insert(deadline: deadline, connection: UInt64(index), sequence: 0)
        }
        #expect(heap.popDue(now: 0)?.connection == 7)
        #expect(heap.popDue(now: 5) == nil)
        var popped: [UInt64] = []
        while let entry = heap.popDue(now: 100) { popped.append(entry.connection) }
        #expect(popped == [1, 3, 5, 4, 2, 0, 6])
        #expect(heap.isEmpty)
    }
}
