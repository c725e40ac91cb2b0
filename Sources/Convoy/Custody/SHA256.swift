#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A streaming SHA-256 (FIPS 180-4) hasher, written here so Convoy needs no crypto dependency.
///
/// Feed bytes with ``update(_:)`` as often as you like, then call ``finalize()`` once for
/// the 32-byte digest. ``hash(_:)`` and ``hexDigest(ofFileAt:)`` cover the one-shot cases.
///
/// How it works, for a reader checking the code against the standard:
/// - The message is processed in 64-byte blocks. Whole blocks are compressed straight from the
///   caller's buffer; only a partial block at the end of an `update` is copied aside (`pending`)
///   until more bytes arrive.
/// - Padding (done by ``finalize()``): append the byte `0x80`, then zero bytes until the length is
///   56 mod 64, then the message length in *bits* as a 64-bit big-endian integer. The padded
///   message is therefore a whole number of blocks (one or two more than the unpadded whole blocks).
/// - The compression function takes the eight 32-bit state words `H0...H7` and one block: the block
///   is read as sixteen big-endian words `W0...W15`, extended to 64 words by
///   `Wt = σ1(Wt-2) + Wt-7 + σ0(Wt-15) + Wt-16`, then 64 rounds mix `Wt + Kt` into the working
///   variables `a...h`; finally each working variable is added to its state word. All arithmetic is
///   modulo 2^32.
/// - The initial state is the first 32 bits of the fractional parts of the square roots of the first
///   8 primes; `Kt` are those of the cube roots of the first 64 primes.
///
/// A value type with no references, so copies are independent: copying a hasher mid-stream and
/// finalizing the copy gives the digest of the bytes so far while the original goes on.
public struct SHA256: Sendable {
    /// Bytes per block of the compression function.
    public static let blockSize = 64
    /// Bytes in a digest.
    public static let digestSize = 32

    private typealias State = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    /// 64 bytes of storage for a partial block, as a tuple so it lives inline (no heap).
    private typealias Block = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    private var state: State = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    /// The bytes of an unfinished block; only the first `pendingCount` are meaningful.
    private var pending: Block = (0, 0, 0, 0, 0, 0, 0, 0)
    /// 0..<64.
    private var pendingCount = 0
    /// Message length so far, in bytes (the padding stores it in bits, modulo 2^64).
    private var byteCount: UInt64 = 0

    /// A hasher that has seen no bytes.
    public init() {}

    // MARK: Feeding bytes

    /// Adds `bytes` to the message. Contiguous collections (`[UInt8]`, `ArraySlice<UInt8>`, `Data`,
    /// `UnsafeBufferPointer`) are hashed in place; others are copied through a small stack buffer.
    public mutating func update<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        guard done == nil else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { chunk in
            var count = 0
            for byte in bytes {
                chunk[count] = byte
                count += 1
                if count == chunk.count {
                    update(UnsafeRawBufferPointer(chunk))
                    count = 0
                }
            }
            update(UnsafeRawBufferPointer(start: chunk.baseAddress, count: count))
        }
    }

    /// Adds the bytes in `buffer` to the message: the fast path, with no copying of whole blocks.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard var next = buffer.baseAddress, buffer.count > 0 else { return }
        var remaining = buffer.count
        byteCount &+= UInt64(remaining)
        if pendingCount > 0 {
            let filled = pendingCount
            let taken = min(Self.blockSize - filled, remaining)
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.advanced(by: filled).copyMemory(from: next, byteCount: taken)
            }
            pendingCount += taken
            next += taken
            remaining -= taken
            guard pendingCount == Self.blockSize else { return }
            let block = pending
            withUnsafeBytes(of: block) { Self.compress(&state, $0.baseAddress!, blocks: 1) }
            pendingCount = 0
        }
        let wholeBlocks = remaining / Self.blockSize
        if wholeBlocks > 0 {
            Self.compress(&state, next, blocks: wholeBlocks)
            next += wholeBlocks * Self.blockSize
            remaining -= wholeBlocks * Self.blockSize
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: next, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    // MARK: Midstate

    /// The hasher's state as text: the eight state words (64 hex digits) and then the unfinished
    /// block's bytes (2 hex digits each, `count % 64` of them). With the message length (which a
    /// manifest records anyway) it is everything needed to go on hashing later, in another
    /// process, without the bytes already hashed.
    public var midstate: String {
        var text = ""
        withUnsafeBytes(of: state) { words in
            for index in 0..<8 {
                text += Self.hex(word: words.load(fromByteOffset: index * 4, as: UInt32.self))
            }
        }
        withUnsafeBytes(of: pending) { block in
            for byte in block.prefix(pendingCount) { text += Self.hex([byte]) }
        }
        return text
    }

    /// A hasher that goes on from `midstate` after `count` message bytes; nil unless the text is
    /// exactly what ``midstate`` gives for that count.
    public init?(midstate: String, count: UInt64) {
        let digits = Array(midstate.utf8)
        let tail = Int(count % UInt64(Self.blockSize))
        guard digits.count == 64 + 2 * tail else { return nil }
        func value(_ range: Range<Int>) -> UInt32? {
            var result: UInt32 = 0
            for digit in digits[range] {
                guard let nibble = Self.nibble(digit) else { return nil }
                result = result << 4 | UInt32(nibble)
            }
            return result
        }
        var words: [UInt32] = []
        for index in 0..<8 {
            guard let word = value(index * 8..<index * 8 + 8) else { return nil }
            words.append(word)
        }
        state = (words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7])
        var bytes: [UInt8] = []
        for index in 0..<tail {
            guard let byte = value(64 + 2 * index..<66 + 2 * index) else { return nil }
            bytes.append(UInt8(byte))
        }
        withUnsafeMutableBytes(of: &pending) { block in
            for (index, byte) in bytes.enumerated() { block[index] = byte }
        }
        pendingCount = tail
        byteCount = count
    }

    private static func hex(word: UInt32) -> String {
        let text = String(word, radix: 16)
        return String(repeating: "0", count: 8 - text.count) + text
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    // MARK: Results

    /// Pads the message and returns its 32-byte digest.
    ///
    /// `consuming` because padding ends the message: the hasher is used up. (It is copyable, so a
    /// caller that keeps using its variable afterwards works on an untouched copy, which makes a
    /// running digest possible; it never sees padding.)
    public consuming func finalize() -> [UInt8] {
        let bitLength = byteCount &* 8
        // 0x80, then zeros up to 56 mod 64, then the 8-byte length: 1 + 0...63 + 8 bytes.
        let zeros = (Self.blockSize + 55 - pendingCount) % Self.blockSize
        let empty: Block = (0, 0, 0, 0, 0, 0, 0, 0)
        var block = (empty, empty)
        withUnsafeMutableBytes(of: &block) { bytes in
            bytes[0] = 0x80
            bytes.storeBytes(of: bitLength.bigEndian, toByteOffset: 1 + zeros, as: UInt64.self)
            update(UnsafeRawBufferPointer(rebasing: bytes[0..<(1 + zeros + 8)]))
        }
        precondition(pendingCount == 0, "SHA-256 padding must end on a block boundary")
        return [UInt8](unsafeUninitializedCapacity: Self.digestSize) { digest, count in
            let raw = UnsafeMutableRawBufferPointer(digest)
            withUnsafeBytes(of: state) { words in
                for index in 0..<8 {
                    let word = words.load(fromByteOffset: index * 4, as: UInt32.self)
                    raw.storeBytes(of: word.bigEndian, toByteOffset: index * 4, as: UInt32.self)
                }
            }
            count = Self.digestSize
        }
    }

    /// The SHA-256 digest of `bytes` in one call.
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// `digest` (any bytes) as lowercase hexadecimal, two characters a byte.
    public static func hex(_ digest: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: digest.count * 2) { text in
            digits.withUTF8Buffer { digits in
                for (index, byte) in digest.enumerated() {
                    text[index * 2] = digits[Int(byte >> 4)]
                    text[index * 2 + 1] = digits[Int(byte & 0x0f)]
                }
            }
            return digest.count * 2
        }
    }

    /// Hashes the file at `path`, reading it in 1 MiB blocks so memory stays flat whatever its size.
    /// - Returns: the lowercase hex digest and the number of bytes read.
    /// - Throws: ``ConvoyError/output(_:)`` naming the path and the system's reason when the file
    ///   cannot be opened or read (missing, unreadable, a directory, an I/O error).
    public static func hexDigest(ofFileAt path: String) throws -> (hex: String, bytes: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConvoyError.output("cannot read \(path): \(lastError())") }
        defer { _ = close(fd) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let count = read(fd, chunk.baseAddress, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConvoyError.output("cannot read \(path): \(lastError())")
            }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            total += Int64(count)
        }
        return (hex(hasher.finalize()), total)
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }

    // MARK: Compression

    /// `Kt`: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// Runs the compression function over `blocks` consecutive 64-byte blocks at `start` (any
    /// alignment), updating `state`. The hot loop: locals only, a 16-word rolling message schedule
    /// on the stack, no bounds checks, no allocation.
    private static func compress(_ state: inout State, _ start: UnsafeRawPointer, blocks: Int) {
        var (h0, h1, h2, h3, h4, h5, h6, h7) = state
        roundConstants.withUnsafeBufferPointer { constants in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { schedule in
                let k = constants.baseAddress!
                let w = schedule.baseAddress!
                var block = start
                for _ in 0..<blocks {
                    var (a, b, c, d, e, f, g, h) = (h0, h1, h2, h3, h4, h5, h6, h7)
                    for index in 0..<16 {
                        w[index] = block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self).bigEndian
                    }
                    eightRounds(&a, &b, &c, &d, &e, &f, &g, &h, k, w)
                    eightRounds(&a, &b, &c, &d, &e, &f, &g, &h, k + 8, w + 8)
                    for firstRound in stride(from: 16, to: 64, by: 16) {
                        eightScheduledRounds(&a, &b, &c, &d, &e, &f, &g, &h, k + firstRound, w, 0)
                        eightScheduledRounds(&a, &b, &c, &d, &e, &f, &g, &h, k + firstRound + 8, w, 8)
                    }
                    h0 &+= a
                    h1 &+= b
                    h2 &+= c
                    h3 &+= d
                    h4 &+= e
                    h5 &+= f
                    h6 &+= g
                    h7 &+= h
                    block += blockSize
                }
            }
        }
        state = (h0, h1, h2, h3, h4, h5, h6, h7)
    }

    /// Extends the message schedule by one word in place: `w[index]` holds `Wt-16` on entry and `Wt`
    /// on return, where `Wt = σ1(Wt-2) + Wt-7 + σ0(Wt-15) + Wt-16` (`w` is a 16-word ring).
    @inline(__always)
    private static func nextWord(_ w: UnsafeMutablePointer<UInt32>, _ index: Int) -> UInt32 {
        let minus2 = w[(index + 14) & 15]
        let minus15 = w[(index + 1) & 15]
        let sigma1 = rotateRight(minus2, 17) ^ rotateRight(minus2, 19) ^ (minus2 &>> 10)
        let sigma0 = rotateRight(minus15, 7) ^ rotateRight(minus15, 18) ^ (minus15 &>> 3)
        let word = w[index] &+ sigma0 &+ w[(index + 9) & 15] &+ sigma1
        w[index] = word
        return word
    }

    /// Eight rounds from round 16 on, extending the schedule as they go: ring slots `first...first+7`.
    @inline(__always)
    private static func eightScheduledRounds(
        _ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32,
        _ e: inout UInt32, _ f: inout UInt32, _ g: inout UInt32, _ h: inout UInt32,
        _ k: UnsafePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>, _ first: Int
    ) {
        round(a, b, c, &d, e, f, g, &h, k[0] &+ nextWord(w, first))
        round(h, a, b, &c, d, e, f, &g, k[1] &+ nextWord(w, first + 1))
        round(g, h, a, &b, c, d, e, &f, k[2] &+ nextWord(w, first + 2))
        round(f, g, h, &a, b, c, d, &e, k[3] &+ nextWord(w, first + 3))
        round(e, f, g, &h, a, b, c, &d, k[4] &+ nextWord(w, first + 4))
        round(d, e, f, &g, h, a, b, &c, k[5] &+ nextWord(w, first + 5))
        round(c, d, e, &f, g, h, a, &b, k[6] &+ nextWord(w, first + 6))
        round(b, c, d, &e, f, g, h, &a, k[7] &+ nextWord(w, first + 7))
    }

    /// Eight rounds; the working variables' roles rotate by one each round, so after eight they are
    /// back in place and no shuffling of values is needed.
    @inline(__always)
    private static func eightRounds(
        _ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32,
        _ e: inout UInt32, _ f: inout UInt32, _ g: inout UInt32, _ h: inout UInt32,
        _ k: UnsafePointer<UInt32>, _ w: UnsafePointer<UInt32>
    ) {
        round(a, b, c, &d, e, f, g, &h, k[0] &+ w[0])
        round(h, a, b, &c, d, e, f, &g, k[1] &+ w[1])
        round(g, h, a, &b, c, d, e, &f, k[2] &+ w[2])
        round(f, g, h, &a, b, c, d, &e, k[3] &+ w[3])
        round(e, f, g, &h, a, b, c, &d, k[4] &+ w[4])
        round(d, e, f, &g, h, a, b, &c, k[5] &+ w[5])
        round(c, d, e, &f, g, h, a, &b, k[6] &+ w[6])
        round(b, c, d, &e, f, g, h, &a, k[7] &+ w[7])
    }

    /// One round: `T1 = h + Σ1(e) + Ch(e, f, g) + Kt + Wt`, `T2 = Σ0(a) + Maj(a, b, c)`; the new `e`
    /// is `d + T1` (stored in `d`) and the new `a` is `T1 + T2` (stored in `h`).
    @inline(__always)
    private static func round(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
        _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ constantPlusWord: UInt32
    ) {
        let bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
        let choose = g ^ (e & (f ^ g))
        let t1 = h &+ bigSigma1 &+ choose &+ constantPlusWord
        let bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
        let majority = (a & b) | (c & (a | b))
        d &+= t1
        h = t1 &+ bigSigma0 &+ majority
    }

    @inline(__always)
    private static func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value &>> count) | (value &<< (32 &- count))
    }
}
