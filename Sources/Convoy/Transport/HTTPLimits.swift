/// The bounds every answer must keep within, whatever the server sends, so that no declared length,
/// chunk size, header count or stream of interim answers can crash the client, hold a request for
/// ever, or allocate past a known amount.
///
/// Memory per connection is at most `maxHeadBytes + maxResponseBytes` (plus a 64 KiB read buffer),
/// so a run's worst case is `concurrency × maxResponseBytes`: 16 × 8 MiB = 128 MiB by default.
/// A request ends within `requestTimeout` of its first byte sent, whatever the server does.
public struct HTTPLimits: Sendable, Equatable {
    /// The largest body accepted (after chunked decoding). A larger answer fails with
    /// ``SocketTransportError/responseTooLarge(limit:)`` and its connection is closed; nothing is
    /// buffered past the limit, and a declared `Content-Length` above it fails before any body
    /// byte is read. Default 8 MiB: a messaging conversation with thousands of messages, or a bulk
    /// answer of 1,000 message bodies, is a few MiB.
    public var maxResponseBytes: Int
    /// The deadline for a whole exchange, from the first byte of the request sent to the last byte
    /// of the answer, beside the idle timeout (no byte moving). Default 60 s.
    public var requestTimeout: Duration
    /// The largest status line plus header section (and, separately, trailer section). Default 256 KiB.
    public var maxHeadBytes: Int
    /// The most header fields in one head. Default 256.
    public var maxHeaderFields: Int
    /// The most interim (1xx) answers before the final one. Default 8.
    public var maxInterimResponses: Int

    public init(
        maxResponseBytes: Int = 8 << 20, requestTimeout: Duration = .seconds(60), maxHeadBytes: Int = 256 << 10,
        maxHeaderFields: Int = 256, maxInterimResponses: Int = 8
    ) {
        self.maxResponseBytes = max(0, maxResponseBytes)
        self.requestTimeout = requestTimeout
        self.maxHeadBytes = max(64, maxHeadBytes)
        self.maxHeaderFields = max(1, maxHeaderFields)
        self.maxInterimResponses = max(0, maxInterimResponses)
    }

    /// `8 MiB`, `512 KiB`, `300 B`: whole units where they fit.
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }
}
