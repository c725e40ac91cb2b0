/// One part of an output record: the server's document under its key, and the answers it rests on.
public struct RecordPart: Sendable, Equatable {
    /// The record's key for the part (`conversation`, `analytics`, …).
    public var key: String
    /// The server's document, compact JSON, verbatim; `null` for a part that does not apply.
    public var json: [UInt8]
    /// The answers the part rests on: one for a GET, one per bulk request for a batched part.
    public var sources: [Provenance]
    /// True for a part assembled from several requests (`messageBodies`): its provenance is a list.
    public var isBatched: Bool

    public init(key: String, json: [UInt8], sources: [Provenance], isBatched: Bool = false) {
        self.key = key
        self.json = json
        self.sources = sources
        self.isBatched = isBatched
    }
}
