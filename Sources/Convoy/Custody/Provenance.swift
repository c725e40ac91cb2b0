/// The answer a piece of a record rests on: its HTTP status and the server's id for it.
///
/// The correlation id is what a server operator (Genesys support, say) looks a request up by, so
/// it ties every fetched document to one logged answer. It is read from the first header present
/// of ``correlationHeaders``: Genesys sends `ININ-Correlation-Id`; gateways and other APIs often
/// send `X-Request-Id` or `X-Correlation-Id`. `nil` when the server sent none of them.
public struct Provenance: Sendable, Equatable {
    /// The HTTP status of the answer.
    public var status: Int
    /// The server's correlation id for the answer, verbatim.
    public var correlationID: String?

    /// The headers that carry a correlation id, in order of preference.
    public static let correlationHeaders = ["ININ-Correlation-Id", "X-Request-Id", "X-Correlation-Id"]

    public init(status: Int, correlationID: String?) {
        self.status = status
        self.correlationID = correlationID
    }

    /// The provenance of `response`.
    public init(_ response: HTTPResponse) {
        self.init(status: response.status, correlationID: Self.correlationID(in: response.headers))
    }

    /// The correlation id in `headers`, or nil.
    public static func correlationID(in headers: HTTPHeaders) -> String? {
        for name in correlationHeaders {
            if let value = headers[name], !value.isEmpty { return value }
        }
        return nil
    }

    /// `{"status":200,"correlationId":"…"}` (`null` when there is no id).
    func appendJSON(to line: inout [UInt8]) {
        line.append(contentsOf: #"{"status":"#.utf8)
        line.append(contentsOf: String(status).utf8)
        line.append(contentsOf: #","correlationId":"#.utf8)
        if let correlationID {
            RecordEncoder.appendString(correlationID, to: &line)
        } else {
            line.append(contentsOf: "null".utf8)
        }
        line.append(UInt8(ascii: "}"))
    }
}
