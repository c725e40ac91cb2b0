/// Why one id ended in the errors file.
public struct FetchFailure: Sendable, Equatable {
    /// The conversation id, or the raw input text when it was not an id.
    public var id: String
    /// The last HTTP status, or nil when there was none (transport error, bad input).
    public var status: Int?
    /// The server's correlation id for that last answer (see ``Provenance``), when it sent one.
    public var correlationID: String?
    /// What went wrong, for a person.
    public var reason: String
    /// Requests made for this id.
    public var attempts: Int
    /// True when a later run may succeed (429, 5xx, transport errors): a re-run retries it.
    /// False for answers that will not change (404, 400, bad input).
    public var retryable: Bool
    /// The input line, for input that was not an id.
    public var inputLine: Int?
    /// The ``ConversationPart`` (or its sub-request, e.g. `messageBodies`) that failed, when the
    /// conversation itself was found.
    public var part: String?

    public init(
        id: String, status: Int?, reason: String, attempts: Int, retryable: Bool, inputLine: Int? = nil,
        part: String? = nil, correlationID: String? = nil
    ) {
        self.id = id
        self.status = status
        self.correlationID = correlationID
        self.reason = reason
        self.attempts = attempts
        self.retryable = retryable
        self.inputLine = inputLine
        self.part = part
    }
}
