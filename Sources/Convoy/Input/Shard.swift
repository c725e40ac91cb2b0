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

    /// The variables that batch schedulers set to a worker's 0-based index: Kubernetes Indexed
    /// Jobs and AWS Batch array jobs.
    public static let indexVariables = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]

    /// Parses `K/N`, or `auto/N` with K from the scheduler's index variable (`index + 1`).
    /// - Throws: ``ConvoyError/usage(_:)`` naming what is wrong: the form, no index variable set,
    ///   two that disagree, or an index that does not fit N.
    public static func resolve(_ text: String, environment: [String: String]) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "auto" else {
            guard let shard = Shard(text) else {
                throw ConvoyError.usage("--shard takes K/N with 1 ≤ K ≤ N (e.g. --shard 2/4) or auto/N, not '\(text)'")
            }
            return shard
        }
        guard let count = Int(parts[1]), count >= 1 else {
            throw ConvoyError.usage("--shard auto/N needs a count N ≥ 1, not '\(parts[1])'")
        }
        let set = indexVariables.compactMap { name in environment[name].map { (name, $0) } }
        guard let (name, value) = set.first else {
            throw ConvoyError.usage(
                "--shard auto/\(count) takes the shard from \(indexVariables.joined(separator: " or ")) "
                    + "(set by a Kubernetes Indexed Job or an AWS Batch array job), and neither is set; "
                    + "give --shard K/\(count) by hand")
        }
        if let other = set.dropFirst().first, other.1 != value {
            throw ConvoyError.usage("\(name)=\(value) and \(other.0)=\(other.1) disagree: which shard is this?")
        }
        guard let index = Int(value), (0..<count).contains(index) else {
            throw ConvoyError.usage(
                "\(name) is '\(value)', which is not an index 0…\(count - 1) of \(count) shards "
                    + "(the job's completions or array size must be \(count))")
        }
        return Shard(index: index + 1, count: count)
    }

    /// `text` with `{shard}` replaced by K and `{index}` by K − 1 (the scheduler's index), so each
    /// shard can name its own credentials and files: `--credentials /secrets/client-{index}.json`.
    public func fill(_ text: String) -> String {
        text.replacingOccurrences(of: "{shard}", with: "\(index)").replacingOccurrences(
            of: "{index}", with: "\(index - 1)")
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
