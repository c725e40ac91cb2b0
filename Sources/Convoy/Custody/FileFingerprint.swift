import Glibc

/// What a file (or a stream) held at one moment: the SHA-256 of its bytes, its size and its line
/// count (`\n` bytes). `sha256sum FILE` and `wc -lc FILE` give the same figures.
public struct FileFingerprint: Codable, Sendable, Equatable {
    /// Lowercase hex SHA-256 of the whole content.
    public var sha256: String
    /// Size in bytes.
    public var bytes: Int64
    /// Number of `\n` bytes: whole NDJSON records.
    public var lines: Int

    public init(sha256: String, bytes: Int64, lines: Int) {
        self.sha256 = sha256
        self.bytes = bytes
        self.lines = lines
    }

    /// The fingerprint of no bytes at all.
    public static let empty = Tally().fingerprint

    /// Bytes fed in order, hashed and counted as they pass (the output stream of `--output -`).
    public struct Tally: Sendable {
        private var hasher = SHA256()
        private var bytes: Int64 = 0
        private var lines = 0

        public init() {}

        /// Adds `buffer` to the tally.
        public mutating func add(_ buffer: UnsafeRawBufferPointer) {
            hasher.update(buffer)
            bytes += Int64(buffer.count)
            for byte in buffer where byte == UInt8(ascii: "\n") { lines += 1 }
        }

        /// The fingerprint of everything added so far (the tally can go on).
        public var fingerprint: FileFingerprint {
            let copy = hasher
            return FileFingerprint(sha256: SHA256.hex(copy.finalize()), bytes: bytes, lines: lines)
        }

        /// Bytes added so far.
        public var count: Int64 { bytes }
    }

    /// Reads the file at `path` once, in 1 MiB blocks, and returns its fingerprint and the
    /// fingerprint of each of its first `prefixes` bytes (a prefix longer than the file is left out).
    /// - Throws: ``ConvoyError/output(_:)`` when the file cannot be read.
    public static func measure(
        path: String, prefixes: Set<Int64> = []
    ) throws -> (whole: FileFingerprint, prefixes: [Int64: FileFingerprint]) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConvoyError.output("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { _ = close(fd) }
        var tally = Tally()
        var found: [Int64: FileFingerprint] = [:]
        var pending = prefixes.sorted()[...]
        if pending.first == 0 {
            found[0] = .empty
            pending = pending.dropFirst()
        }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while true {
            let count = read(fd, block.baseAddress, block.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConvoyError.output("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            var start = 0
            // Split the block at every prefix boundary that falls inside it.
            while let next = pending.first, next - tally.count <= Int64(count - start) {
                let take = Int(next - tally.count)
                tally.add(UnsafeRawBufferPointer(rebasing: block[start..<start + take]))
                start += take
                found[next] = tally.fingerprint
                pending = pending.dropFirst()
            }
            tally.add(UnsafeRawBufferPointer(rebasing: block[start..<count]))
        }
        return (tally.fingerprint, found)
    }
}
