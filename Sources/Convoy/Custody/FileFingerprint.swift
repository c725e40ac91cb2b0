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

        /// The hasher's ``SHA256/midstate``: with ``count`` and the lines, what a later run needs to
        /// go on from here (``init(midstate:bytes:lines:)``) without reading these bytes again.
        public var midstate: String { hasher.midstate }

        /// The tally of `bytes` bytes holding `lines` lines whose hasher stood at `midstate`; nil
        /// when the text does not fit that count.
        public init?(midstate: String, bytes: Int64, lines: Int) {
            guard bytes >= 0, let hasher = SHA256(midstate: midstate, count: UInt64(bytes)) else { return nil }
            self.hasher = hasher
            self.bytes = bytes
            self.lines = lines
        }

        /// Adds `buffer`, and returns the tally as it stood after its last `\n` (nil: none in it).
        mutating func addNotingLastLine(_ buffer: UnsafeRawBufferPointer) -> Tally? {
            guard let newline = buffer.lastIndex(of: UInt8(ascii: "\n")) else {
                add(buffer)
                return nil
            }
            add(UnsafeRawBufferPointer(rebasing: buffer[..<(newline + 1)]))
            let throughLastLine = self
            add(UnsafeRawBufferPointer(rebasing: buffer[(newline + 1)...]))
            return throughLastLine
        }
    }

    /// Reads the file at `path` once, in 1 MiB blocks, and returns its fingerprint, the
    /// fingerprint of each of its first `prefixes` bytes (a prefix longer than the file is left out),
    /// and the tally as it stood after the last `\n`: a run that only appends after that point
    /// measures the file again with ``measure(path:continuing:)``, reading only what it added.
    /// - Throws: ``ConvoyError/output(_:)`` when the file cannot be read.
    public static func measure(
        path: String, prefixes: Set<Int64> = []
    ) throws -> (whole: FileFingerprint, prefixes: [Int64: FileFingerprint], throughLastLine: Tally) {
        let measured = try read(path, from: Tally(), prefixes: prefixes)
        return (measured.whole.fingerprint, measured.prefixes, measured.throughLastLine)
    }

    /// The tally of the whole file at `path`, and through its last `\n`, given `tally` of its first
    /// `tally.count` bytes: only the bytes after them are read. The caller vouches that those
    /// first bytes are unchanged.
    /// - Throws: ``ConvoyError/output(_:)`` when the file cannot be read or is shorter than that.
    public static func measure(
        path: String, continuing tally: Tally
    ) throws -> (whole: Tally, throughLastLine: Tally) {
        let measured = try read(path, from: tally, prefixes: [])
        return (measured.whole, measured.throughLastLine)
    }

    /// Reads the file at `path` from byte `tally.count` on, adding it to `tally`; `prefixes` are
    /// offsets to take fingerprints at on the way.
    private static func read(
        _ path: String, from tally: Tally, prefixes: Set<Int64>
    ) throws -> (whole: Tally, prefixes: [Int64: FileFingerprint], throughLastLine: Tally) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConvoyError.output("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { _ = close(fd) }
        guard lseek(fd, 0, SEEK_END) >= off_t(tally.count), lseek(fd, off_t(tally.count), SEEK_SET) >= 0 else {
            throw ConvoyError.output("\(path) is shorter than the \(tally.count) bytes measured before the run")
        }
        var tally = tally
        var throughLastLine = tally
        var found: [Int64: FileFingerprint] = [:]
        var pending = prefixes.filter { $0 >= tally.count }.sorted()[...]
        if pending.first == tally.count {
            found[tally.count] = tally.fingerprint
            pending = pending.dropFirst()
        }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while true {
            let count = Glibc.read(fd, block.baseAddress, block.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConvoyError.output("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return (tally, found, throughLastLine) }
            var start = 0
            // Split the block at every prefix boundary that falls inside it.
            while let next = pending.first, next - tally.count <= Int64(count - start) {
                let take = Int(next - tally.count)
                tally.add(UnsafeRawBufferPointer(rebasing: block[start..<start + take]))
                start += take
                found[next] = tally.fingerprint
                pending = pending.dropFirst()
            }
            if let noted = tally.addNotingLastLine(UnsafeRawBufferPointer(rebasing: block[start..<count])) {
                throughLastLine = noted
            }
        }
    }
}
