/// One parsed HTTP/1.x request.
struct HTTPRequest {
    var method: String
    /// The request target as sent, query string included.
    var target: String
    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`.
    var keepAlive: Bool
    var body: [UInt8]
    /// The `Authorization` header's value (spaces trimmed), if sent; the last one wins when repeated.
    var authorization: String? = nil
    /// The `Content-Type` header's value (spaces trimmed), if sent; the last one wins when repeated.
    var contentType: String? = nil

    /// The target without its query string.
    var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }
}

/// Incremental HTTP/1.x request parser over a connection's input buffer (request line, headers, and a
/// `Content-Length` body; no chunked bodies).
enum HTTPRequestParser {
    /// Largest accepted request head (request line plus headers).
    static let maximumHeadBytes = 16 * 1024
    /// Largest accepted body, Genesys's documented request body limit.
    static let maximumBodyBytes = 512_000

    enum Result {
        /// More bytes are needed.
        case incomplete
        /// The head is complete and the body is still arriving; `expectsContinue` when the client sent
        /// `Expect: 100-continue` and may wait for an interim `100 Continue` before sending it.
        case awaitingBody(expectsContinue: Bool)
        /// A request that used `consumed` bytes of the input.
        case request(HTTPRequest, consumed: Int)
        /// The input is not an acceptable request; answer `status` and close.
        case invalid(status: Int, message: String)
    }

    /// Parses the request starting at `start` in `buffer`.
    static func parse(_ buffer: [UInt8], from start: Int) -> Result {
        guard let headEnd = headEnd(in: buffer, from: start) else {
            return buffer.count - start > maximumHeadBytes
                ? .invalid(status: 431, message: "Request header fields too large") : .incomplete
        }
        guard headEnd - start <= maximumHeadBytes,
            let head = String(validating: buffer[start..<headEnd], as: UTF8.self)
        else { return .invalid(status: 431, message: "Request header fields too large") }

        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        // Tolerate stray empty lines before a request line (RFC 9112 §2.2).
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { return .invalid(status: 400, message: "Missing request line") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return .invalid(status: 400, message: "Malformed request line")
        }
        let isHTTP11 = parts[2] != "HTTP/1.0"

        var contentLength = 0
        var expectsContinue = false
        var connectionTokens: [Substring] = []
        var authorization: String?
        var contentType: String?
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                return .invalid(status: 400, message: "Malformed header line")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            switch name {
            case "content-length":
                guard let length = Int(value), length >= 0 else {
                    return .invalid(status: 400, message: "Invalid Content-Length")
                }
                contentLength = length
            case "transfer-encoding":
                return .invalid(status: 501, message: "Transfer-Encoding is not supported")
            case "expect":
                expectsContinue = value.lowercased() == "100-continue"
            case "connection":
                connectionTokens += value.split(separator: ",").map { $0.trimmingSpaces() }
            case "authorization":
                authorization = String(value)
            case "content-type":
                contentType = String(value)
            default:
                break
            }
        }
        guard contentLength <= maximumBodyBytes else {
            return .invalid(status: 413, message: "Request body larger than \(maximumBodyBytes) bytes")
        }
        let bodyStart = headEnd + 4
        guard buffer.count - bodyStart >= contentLength else { return .awaitingBody(expectsContinue: expectsContinue) }

        let wantsClose = connectionTokens.contains { $0.lowercased() == "close" }
        let wantsKeepAlive = connectionTokens.contains { $0.lowercased() == "keep-alive" }
        let request = HTTPRequest(
            method: String(parts[0]),
            target: String(parts[1]),
            keepAlive: isHTTP11 ? !wantsClose : (wantsKeepAlive && !wantsClose),
            body: Array(buffer[bodyStart..<bodyStart + contentLength]),
            authorization: authorization,
            contentType: contentType)
        return .request(request, consumed: bodyStart + contentLength - start)
    }

    /// Index of the `\r\n\r\n` that ends the head, searching from `start`.
    private static func headEnd(in buffer: [UInt8], from start: Int) -> Int? {
        guard buffer.count - start >= 4 else { return nil }
        var index = start
        let last = buffer.count - 4
        while index <= last {
            if buffer[index + 3] != 10 {  // '\n' — skip ahead quickly
                index += 1
                continue
            }
            if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13 { return index }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return Substring(slice)
    }
}
