import Foundation

/// A hash table of 128-bit ids (UUIDs), each with a 64-bit value, in two flat allocations: 16 bytes
/// a slot for the keys and, when values are kept, 8 more. No per-entry object, no `String`.
///
/// - Open addressing with linear probing. A slot index is `⌊h · capacity / 2⁶⁴⌋` (a multiply, so the
///   capacity need not be a power of two), `h` a seeded mix of both halves of the key, so ids that
///   share a prefix or differ in one bit still spread, and a crafted input cannot aim at one slot
///   without the per-table seed.
/// - Load factor at most ``maximumLoad`` (7/8); beyond it the table grows by half (×1.5), so after
///   a growth it is ≥ 7/12 full. Memory per id is therefore between 16 / (7/8) ≈ 18.3 and
///   16 / (7/12) ≈ 27.4 bytes for a set, and 1.5 times that with values.
/// - The all-zero key marks an empty slot, so the id `00000000-0000-0000-0000-000000000000` is kept
///   aside in a field of its own.
/// - With `flags`, each slot has one more bit (1/8 byte), for ``insertFlagging(_:)``: a run keeps
///   the ids an earlier run recorded and the ids its input named in one table, the flag telling
///   the second kind.
///
/// Entries are never removed (resume and the index only ever add).
public final class UUIDTable {
    /// A 128-bit id as two integers, most significant half first (the UUID's byte order).
    public struct Key: Hashable, Sendable {
        public var high: UInt64
        public var low: UInt64

        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }
    }

    /// What ``insertFlagging(_:)`` found.
    public enum Flagging: Sendable, Equatable {
        /// The key was absent; it is now present and flagged.
        case added
        /// The key was present without its flag, which is now set.
        case flagged
        /// The key was present and flagged already.
        case alreadyFlagged
    }

    /// Entries at most per slot: 7/8.
    public static let maximumLoad = 0.875

    public private(set) var count = 0
    /// Slots allocated.
    public private(set) var capacity: Int
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<UInt64>?
    /// One bit a slot (with `flags`), slot `i` at bit `i % 64` of word `i / 64`.
    private var flagBits: UnsafeMutablePointer<UInt64>?
    private var zeroValue: UInt64?
    private var zeroFlagged = false
    private let seed: (UInt64, UInt64)
    /// Test hook: every key hashes to the same slot, the worst case for probing.
    private let degenerate: Bool

    /// - Parameters:
    ///   - minimumCapacity: entries to make room for up front.
    ///   - storesValues: false for a set (``insert(_:value:)`` ignores the value; 16 bytes a slot).
    ///   - flags: true to keep a flag bit a slot for ``insertFlagging(_:)``.
    public convenience init(minimumCapacity: Int = 0, storesValues: Bool = true, flags: Bool = false) {
        self.init(minimumCapacity: minimumCapacity, storesValues: storesValues, flags: flags, degenerate: false)
    }

    init(minimumCapacity: Int, storesValues: Bool, flags: Bool = false, degenerate: Bool) {
        capacity = max(16, Int((Double(minimumCapacity) / Self.maximumLoad).rounded(.up)) + 1)
        keys = Self.allocateZeroed(2 * capacity)
        values = storesValues ? Self.allocateZeroed(capacity) : nil
        flagBits = flags ? Self.allocateZeroed(Self.flagWords(capacity)) : nil
        var generator = SystemRandomNumberGenerator()
        seed = (generator.next(), generator.next())
        self.degenerate = degenerate
    }

    deinit {
        keys.deallocate()
        values?.deallocate()
        flagBits?.deallocate()
    }

    /// Bytes held by the slots.
    public var allocatedBytes: Int {
        capacity * (values == nil ? 16 : 24) + (flagBits == nil ? 0 : 8 * Self.flagWords(capacity))
    }

    /// Adds `key` with `value` unless it is already there.
    /// - Returns: true when it was added; false when it was there (its value is left as it was).
    @discardableResult
    public func insert(_ key: Key, value: UInt64 = 0) -> Bool {
        if key.high == 0, key.low == 0 {
            guard zeroValue == nil else { return false }
            zeroValue = value
            count += 1
            return true
        }
        if Double(count + 1) > Self.maximumLoad * Double(capacity) { grow() }
        let (slot, found) = probe(key)
        guard !found else { return false }
        keys[2 * slot] = key.high
        keys[2 * slot + 1] = key.low
        values?[slot] = value
        count += 1
        return true
    }

    /// Adds `key` flagged, or sets its flag: one probe tells an id never seen (``Flagging/added``)
    /// from one that was present (``Flagging/flagged``) and one flagged before
    /// (``Flagging/alreadyFlagged``). Needs a table made with `flags`.
    public func insertFlagging(_ key: Key) -> Flagging {
        precondition(flagBits != nil, "insertFlagging needs a table made with flags: true")
        if key.high == 0, key.low == 0 {
            defer { zeroFlagged = true }
            if zeroValue == nil {
                zeroValue = 0
                count += 1
                return .added
            }
            return zeroFlagged ? .alreadyFlagged : .flagged
        }
        if Double(count + 1) > Self.maximumLoad * Double(capacity) { grow() }
        let (slot, found) = probe(key)
        let word = slot / 64
        let bit = UInt64(1) << UInt64(slot % 64)
        let wasFlagged = flagBits![word] & bit != 0
        flagBits![word] |= bit
        guard !found else { return wasFlagged ? .alreadyFlagged : .flagged }
        keys[2 * slot] = key.high
        keys[2 * slot + 1] = key.low
        count += 1
        return .added
    }

    public func contains(_ key: Key) -> Bool {
        if key.high == 0, key.low == 0 { return zeroValue != nil }
        return probe(key).found
    }

    /// The value stored with `key` (0 in a set), or nil when it is absent.
    public func value(for key: Key) -> UInt64? {
        if key.high == 0, key.low == 0 { return zeroValue }
        let (slot, found) = probe(key)
        guard found else { return nil }
        return values?[slot] ?? 0
    }

    /// Calls `body` with every key and value, in no particular order.
    public func forEach(_ body: (Key, UInt64) throws -> Void) rethrows {
        if let zeroValue { try body(Key(high: 0, low: 0), zeroValue) }
        for slot in 0..<capacity where keys[2 * slot] != 0 || keys[2 * slot + 1] != 0 {
            try body(Key(high: keys[2 * slot], low: keys[2 * slot + 1]), values?[slot] ?? 0)
        }
    }

    /// The slot that holds `key`, or the empty slot where it would go.
    private func probe(_ key: Key) -> (slot: Int, found: Bool) {
        var slot = home(key)
        while true {
            let high = keys[2 * slot]
            let low = keys[2 * slot + 1]
            if high == key.high, low == key.low { return (slot, true) }
            if high == 0, low == 0 { return (slot, false) }
            slot += 1
            if slot == capacity { slot = 0 }
        }
    }

    private func home(_ key: Key) -> Int {
        guard !degenerate else { return 0 }
        let hash = Self.mix(key.high ^ seed.0) &+ Self.mix(key.low ^ seed.1)
        return Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    /// The finaliser of MurmurHash3: every input bit flips each output bit with probability ½.
    private static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }

    /// Makes room for `count` entries in all, so that inserting them needs no growth (a growth
    /// holds the old slots and the new ones at once).
    public func reserveCapacity(_ count: Int) {
        let needed = Int((Double(count) / Self.maximumLoad).rounded(.up)) + 1
        if needed > capacity { rehash(to: needed) }
    }

    private func grow() {
        rehash(to: capacity + capacity / 2)
    }

    private func rehash(to newCapacity: Int) {
        let oldKeys = keys
        let oldValues = values
        let oldFlags = flagBits
        let oldCapacity = capacity
        capacity = newCapacity
        keys = Self.allocateZeroed(2 * capacity)
        values = oldValues == nil ? nil : Self.allocateZeroed(capacity)
        flagBits = oldFlags == nil ? nil : Self.allocateZeroed(Self.flagWords(capacity))
        for slot in 0..<oldCapacity where oldKeys[2 * slot] != 0 || oldKeys[2 * slot + 1] != 0 {
            let key = Key(high: oldKeys[2 * slot], low: oldKeys[2 * slot + 1])
            let target = probe(key).slot
            keys[2 * target] = key.high
            keys[2 * target + 1] = key.low
            values?[target] = oldValues?[slot] ?? 0
            if let oldFlags, oldFlags[slot / 64] & (1 << UInt64(slot % 64)) != 0 {
                flagBits![target / 64] |= 1 << UInt64(target % 64)
            }
        }
        oldKeys.deallocate()
        oldValues?.deallocate()
        oldFlags?.deallocate()
    }

    private static func flagWords(_ capacity: Int) -> Int { (capacity + 63) / 64 }

    private static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<UInt64> {
        let pointer = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        return pointer
    }
}

extension ConversationID {
    /// The id as a table key: the UUID's 16 bytes as two big-endian halves.
    public var key: UUIDTable.Key {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            UUIDTable.Key(
                high: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
                low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The id a key holds.
    public init(key: UUIDTable.Key) {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { bytes in
            bytes.storeBytes(of: key.high.bigEndian, as: UInt64.self)
            bytes.storeBytes(of: key.low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        self.init(uuid: UUID(uuid: uuid))
    }

    /// Parses exactly 36 bytes of `8-4-4-4-12` hex (either case) without a `String`: the same
    /// text ``init(_:)`` accepts, at the speed an input of millions of lines needs.
    public init?(ascii bytes: UnsafeRawBufferPointer) {
        guard let key = UUIDTable.Key(ascii: bytes) else { return nil }
        self.init(key: key)
    }
}

extension UUIDTable.Key {
    /// Parses exactly 36 bytes of `8-4-4-4-12` hex (either case), fast: no `String`, no `UUID`, a
    /// table look-up a digit. nil for anything else, so it accepts the same text as
    /// ``ConversationID/init(_:)``.
    public init?(ascii bytes: UnsafeRawBufferPointer) {
        let dash = UInt8(ascii: "-")
        guard bytes.count == 36, bytes[8] == dash, bytes[13] == dash, bytes[18] == dash, bytes[23] == dash else {
            return nil
        }
        let values = hexDigitValues
        var invalid: UInt8 = 0
        func digits(_ range: Range<Int>, into value: inout UInt64) {
            for offset in range {
                let digit = values[Int(bytes[offset])]
                invalid |= digit
                value = value << 4 | UInt64(digit & 0x0F)
            }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        digits(0..<8, into: &high)
        digits(9..<13, into: &high)
        digits(14..<18, into: &high)
        digits(19..<23, into: &low)
        digits(24..<36, into: &low)
        guard invalid & 0xF0 == 0 else { return nil }
        self.init(high: high, low: low)
    }
}

/// Each byte's value as a hex digit (either case), or 0xFF for a byte that is not one. Written
/// once, when first used, and only read after: safe to share.
nonisolated(unsafe) private let hexDigitValues: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    table.initialize(repeating: 0xFF, count: 256)
    for (offset, digit) in "0123456789abcdef".utf8.enumerated() { table[Int(digit)] = UInt8(offset) }
    for (offset, digit) in "ABCDEF".utf8.enumerated() { table[Int(digit)] = UInt8(offset + 10) }
    return UnsafePointer(table)
}()
