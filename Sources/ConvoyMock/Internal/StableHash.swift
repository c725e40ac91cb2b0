/// FNV-1a 64-bit: a stable hash, identical in every process (unlike Swift's per-process seeded `Hasher`).
enum StableHash {
    static func fnv1a64<S: Sequence<UInt8>>(_ bytes: S) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func fnv1a64(_ string: String) -> UInt64 {
        fnv1a64(string.utf8)
    }
}
