/// One of `count` disjoint parts of any id set, chosen by a stable hash, so that `count` machines
/// (each with its own OAuth client and budget) can split one job without talking to each other.
///
/// An id belongs to shard `index` (1-based) when `fnv1a64(lowercase id) mod count == index − 1`.
/// FNV-1a is fixed by its definition, unlike Swift's `Hasher`, which is seeded per process: every
/// machine and every run puts an id in the same shard.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Parses `K/N` with `1 ≤ K ≤ N`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
            (1...count).contains(index)
        else { return nil }
        self.index = index
        self.count = count
    }

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (1...count).contains(index), "shard \(index)/\(count) is out of range")
        self.index = index
        self.count = count
    }

    /// True when `id` belongs to this shard.
    public func contains(_ id: ConversationID) -> Bool {
        Int(Self.fnv1a64(id.description) % UInt64(count)) == index - 1
    }

    public var description: String { "\(index)/\(count)" }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
