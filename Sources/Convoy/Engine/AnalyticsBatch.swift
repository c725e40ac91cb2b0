/// The request and the answer of `GET /api/v2/analytics/conversations/details?id=a,b,…`, which
/// serves the analytics part of many conversations in one request (Genesys's "Gets multiple
/// conversations by id").
///
/// The answer is `{"conversations":[…]}`. ``split(_:)`` hands back each element verbatim (compact,
/// as the per-id endpoint's answer is compacted), keyed by its `conversationId`, so a record's
/// `analytics` holds the same bytes whichever endpoint served it. An id the answer does not list
/// has no analytics to give (the caller records `null`, or asks the per-id endpoint when the
/// conversation's existence is still in question).
enum AnalyticsBatch {
    /// The most ids one request carries by default. Genesys does not document the maximum; 100 is
    /// what the SDKs and the community use. A refusal (400, 413, 414) halves it for the run.
    static let defaultSize = 100

    /// The request's path and query for `ids` (in order).
    static func path(for ids: [ConversationID]) -> String {
        "api/v2/analytics/conversations/details?id=" + ids.map(\.description).joined(separator: ",")
    }

    /// Each listed conversation's document, compact and verbatim, by id; nil when `body` is not a
    /// JSON object whose `conversations` member is an array of objects with a UUID
    /// `conversationId` (a proxy's page, a torn body: the batch is then retried). A missing
    /// `conversations` member is an empty answer, as Genesys omits empty arrays.
    static func split(_ body: some Collection<UInt8>) -> [ConversationID: [UInt8]]? {
        guard let compact = JSONCompactor.compact(body), compact.first == UInt8(ascii: "{") else { return nil }
        return compact.withUnsafeBufferPointer { bytes -> [ConversationID: [UInt8]]? in
            var parser = JSONParser(input: bytes, sink: ElementSink(bytes: bytes))
            guard parser.document(), !parser.sink.malformed else { return nil }
            var documents: [ConversationID: [UInt8]] = [:]
            for element in parser.sink.elements {
                guard let id = element.id else { return nil }
                documents[id] = Array(bytes[element.range])
            }
            return documents
        }
    }

    /// Collects the objects directly inside the top-level `conversations` array.
    private struct ElementSink: JSONSink {
        let bytes: UnsafeBufferPointer<UInt8>
        var elements: [(range: ClosedRange<Int>, id: ConversationID?)] = []
        /// Objects open, the top-level one included.
        var depth = 0
        /// The top-level member being read.
        var topLevelKey: Range<Int>?
        var elementStart = 0
        var elementID: ConversationID?
        /// Something other than objects in `conversations`, or `conversations` not an array.
        var malformed = false

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        private var inConversations: Bool {
            guard let key = topLevelKey else { return false }
            return bytes[key].elementsEqual("\"conversations\"".utf8)
        }

        mutating func objectStarted(at offset: Int) {
            depth += 1
            if depth == 2, inConversations {
                elementStart = offset
                elementID = nil
            }
        }

        mutating func objectEnded(at offset: Int) {
            if depth == 2, inConversations { elements.append((elementStart...offset, elementID)) }
            depth -= 1
        }

        mutating func memberStarted(key: Range<Int>) {
            if depth == 1 { topLevelKey = key }
        }

        mutating func member(key: Range<Int>, value: Range<Int>) {
            if depth == 1, inConversations {
                // The array's own bytes: only `[`, `]`, `,` and the objects collected.
                let objects = elements.map(\.range.count).reduce(0, +)
                let separators = max(elements.count - 1, 0)
                if bytes[value.lowerBound] != UInt8(ascii: "[") || value.count != objects + separators + 2 {
                    malformed = true
                }
                topLevelKey = nil
            } else if depth == 2, inConversations, bytes[key].elementsEqual("\"conversationId\"".utf8),
                value.count == 38, bytes[value.lowerBound] == UInt8(ascii: "\"")
            {
                elementID = ConversationID(
                    String(decoding: bytes[(value.lowerBound + 1)..<(value.upperBound - 1)], as: UTF8.self))
            }
        }
    }
}
