import Convoy
import ConvoyMock
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct SHA256Tests {
    /// `count` reproducible pseudo-random bytes.
    static func randomBytes(_ count: Int, using generator: inout SplitMix64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < count {
                let word = generator.next()
                for shift in 0..<min(8, count - offset) {
                    raw[offset + shift] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))
                }
                offset += 8
            }
        }
        return bytes
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func matchesFIPSVectors(message: String, digest: String) {
        #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == digest)
        #expect(SHA256.hex(SHA256.hash(message.utf8)) == digest)
        #expect(SHA256.hex(SHA256.hash(Data(message.utf8))) == digest)
    }

    /// A hasher rebuilt from its midstate text, at every offset of a block and across blocks, goes
    /// on to the digest of the whole message; text that does not fit the count is refused.
    @Test func aMidstateGoesOnInAnotherHasher() {
        var generator = SystemRandomNumberGenerator()
        let message = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = SHA256.hash(message)
        for split in 0...message.count {
            var first = SHA256()
            first.update(message[..<split])
            guard var second = SHA256(midstate: first.midstate, count: UInt64(split)) else {
                Issue.record("no hasher from the midstate at \(split)")
                return
            }
            second.update(message[split...])
            #expect(second.finalize() == whole, "split at \(split)")
        }
        var hasher = SHA256()
        hasher.update(message[..<70])
        #expect(SHA256(midstate: hasher.midstate, count: 71) == nil, "6 tail bytes, not 7")
        #expect(SHA256(midstate: String(repeating: "z", count: 64 + 12), count: 70) == nil, "not hex")
    }

    @Test func matchesOneMillionAs() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(SHA256.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))) == expected)
        var hasher = SHA256()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(thousand) }
        #expect(SHA256.hex(hasher.finalize()) == expected)
    }

    @Test func digestIsThirtyTwoBytesAndHexIsLowercase() {
        let digest = SHA256.hash([UInt8]())
        #expect(digest.count == 32)
        #expect(SHA256.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(SHA256.hex([]) == "")
    }

    @Test(arguments: [55, 56, 63, 64, 65, 119, 120, 127, 128])
    func matchesSha256sumAtBlockBoundaries(length: Int) throws {
        let scratch = try TemporaryDirectory()
        var generator = SplitMix64(seed: 0x5348_4132_3536 ^ UInt64(length))
        let bytes = Self.randomBytes(length, using: &generator)
        let path = scratch.file("boundary-\(length)")
        try Self.write(bytes, to: path)
        let expected = try Coreutils.sha256sum(path)
        #expect(SHA256.hex(SHA256.hash(bytes)) == expected)
        let file = try SHA256.hexDigest(ofFileAt: path)
        #expect(file.hex == expected)
        #expect(file.bytes == Int64(length))
    }

    @Test func streamingInRandomChunksMatchesOneShot() {
        var generator = SplitMix64(seed: 0xC0FF_EE)
        let bytes = Self.randomBytes(200_000, using: &generator)
        let expected = SHA256.hash(bytes)
        for _ in 0..<5 {
            var hasher = SHA256()
            var offset = 0
            while offset < bytes.count {
                let sizes = [0, 1, 1, 2, 63, 64, 65, Int(generator.next() % 5000)]
                let size = min(sizes[Int(generator.next() % UInt64(sizes.count))], bytes.count - offset)
                let chunk = bytes[offset..<(offset + size)]
                switch generator.next() % 3 {
                case 0: hasher.update(chunk)
                case 1: hasher.update(chunk.lazy.map { $0 })  // not contiguous: the copying path
                default: chunk.withUnsafeBytes { hasher.update($0) }
                }
                offset += size
            }
            hasher.update([UInt8]())
            #expect(hasher.finalize() == expected)
        }
    }

    @Test func copyMidStreamGivesTheRunningDigest() {
        var generator = SplitMix64(seed: 7)
        let bytes = Self.randomBytes(1000, using: &generator)
        var hasher = SHA256()
        hasher.update(bytes[0..<300])
        let snapshot = hasher
        hasher.update(bytes[300...])
        #expect(snapshot.finalize() == SHA256.hash(bytes[0..<300]))
        #expect(hasher.finalize() == SHA256.hash(bytes))
    }

    @Test func hashesRandomFilesLikeSha256sum() throws {
        let scratch = try TemporaryDirectory()
        var generator = SplitMix64(seed: 0x2545_F491)
        for index in 0..<5 {
            let length = Int(generator.next() % 3_000_000)
            let bytes = Self.randomBytes(length, using: &generator)
            let path = scratch.file("random-\(index)")
            try Self.write(bytes, to: path)
            let expected = try Coreutils.sha256sum(path)
            let file = try SHA256.hexDigest(ofFileAt: path)
            #expect(file.hex == expected, "file \(index), \(length) bytes")
            #expect(file.bytes == Int64(length))
        }
    }

    @Test func missingOrUnreadablePathThrows() throws {
        let scratch = try TemporaryDirectory()
        let missing = scratch.file("missing")
        let directory = scratch.path
        #expect(throws: ConvoyError.self) { _ = try SHA256.hexDigest(ofFileAt: missing) }
        #expect(throws: ConvoyError.self) { _ = try SHA256.hexDigest(ofFileAt: directory) }
    }
}
