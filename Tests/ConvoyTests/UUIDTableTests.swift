import Foundation
import Testing

@testable import Convoy

/// The open-addressing id table against `Set` and `Dictionary`, on random and adversarial keys.
@Suite struct UUIDTableTests {
    /// Inserts `keys` (with their index as value) into a table and a dictionary, then checks that
    /// both agree on every key, on `count` and on keys never inserted.
    func agree(_ keys: [UUIDTable.Key], table: UUIDTable) {
        var reference: [UUIDTable.Key: UInt64] = [:]
        for (index, key) in keys.enumerated() {
            let inserted = table.insert(key, value: UInt64(index))
            #expect(inserted == (reference[key] == nil), "insert reports whether the key was new")
            if reference[key] == nil { reference[key] = UInt64(index) }
        }
        #expect(table.count == reference.count)
        for (key, value) in reference {
            #expect(table.value(for: key) == value, "the first value stays")
        }
        var seen: [UUIDTable.Key: UInt64] = [:]
        table.forEach { seen[$0] = $1 }
        #expect(seen == reference)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let absent = UUIDTable.Key(high: generator.next() | 1, low: generator.next())
            #expect(table.contains(absent) == (reference[absent] != nil))
        }
    }

    @Test func randomIDsAgreeWithADictionaryThroughManyGrowths() {
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<50_000).map { _ in UUIDTable.Key(high: generator.next(), low: generator.next()) }
        let table = UUIDTable()
        agree(keys + keys.prefix(1000), table: table)
        #expect(Double(table.count) <= UUIDTable.maximumLoad * Double(table.capacity))
        #expect(Double(table.count) > UUIDTable.maximumLoad / 1.5 * Double(table.capacity) * 0.99, "grows by half")
    }

    @Test func idsThatShareTheirHighOrLowHalfOrCountUpStillSpread() {
        let sequential = (1...20_000).map { UUIDTable.Key(high: 0, low: UInt64($0)) }
        let sameLow = (1...20_000).map { UUIDTable.Key(high: UInt64($0) << 40, low: 7) }
        let oneBit = (0..<64).flatMap { bit in
            [UUIDTable.Key(high: 1 << UInt64(bit), low: 0), UUIDTable.Key(high: 0, low: 1 << UInt64(bit))]
        }
        for keys in [sequential, sameLow, oneBit] {
            agree(keys, table: UUIDTable())
        }
    }

    @Test func everyKeyInOneBucketIsStillCorrect() {
        // The worst case for probing: every key hashes to slot 0 (a test-only hash), so each insert
        // walks the whole run and wraps around the end of the table.
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<3000).map { _ in UUIDTable.Key(high: generator.next(), low: generator.next()) }
        agree(
            keys + keys.shuffled().prefix(500),
            table: UUIDTable(minimumCapacity: 0, storesValues: true, degenerate: true))
    }

    @Test func theZeroIDIsAnIDLikeAnyOther() {
        let table = UUIDTable()
        let zero = UUIDTable.Key(high: 0, low: 0)
        #expect(!table.contains(zero))
        #expect(table.insert(zero, value: 9))
        #expect(!table.insert(zero, value: 10))
        #expect(table.value(for: zero) == 9)
        #expect(table.count == 1)
        agree([UUIDTable.Key(high: 0, low: 1), zero, zero], table: UUIDTable())
    }

    @Test func aSetStoresNoValuesAndTakesSixteenBytesASlot() {
        let set = UUIDTable(storesValues: false)
        #expect(set.insert(UUIDTable.Key(high: 1, low: 2), value: 99))
        #expect(set.value(for: UUIDTable.Key(high: 1, low: 2)) == 0)
        #expect(set.allocatedBytes == set.capacity * 16)
        let presized = UUIDTable(minimumCapacity: 1_000_000, storesValues: false)
        #expect(presized.capacity >= Int(1_000_000 / UUIDTable.maximumLoad))
        #expect(presized.allocatedBytes <= 19 * 1_000_000, "about 18.3 bytes an id when sized up front")
    }

    /// A run's table: ids an earlier run recorded (inserted, unflagged), then the input's ids
    /// (insertFlagging), against two `Set`s, through growths and with every key in one bucket.
    @Test(arguments: [false, true])
    func flagsTellRecordedIDsFromTheInputsAndItsDuplicates(degenerate: Bool) {
        var generator = SystemRandomNumberGenerator()
        let count = degenerate ? 2000 : 40_000
        var keys = (0..<count).map { _ in UUIDTable.Key(high: generator.next(), low: generator.next()) }
        keys.append(UUIDTable.Key(high: 0, low: 0))
        let recorded = Array(keys.shuffled().prefix(keys.count / 2))
        let table = UUIDTable(minimumCapacity: 0, storesValues: false, flags: true, degenerate: degenerate)
        for key in recorded { table.insert(key) }
        let recordedSet = Set(recorded)
        var flagged: Set<UUIDTable.Key> = []
        let input = keys + keys.shuffled().prefix(keys.count / 4)
        for key in input {
            let expected: UUIDTable.Flagging =
                flagged.contains(key) ? .alreadyFlagged : recordedSet.contains(key) ? .flagged : .added
            #expect(table.insertFlagging(key) == expected)
            flagged.insert(key)
        }
        #expect(table.count == keys.count)
        #expect(table.allocatedBytes == table.capacity * 16 + 8 * ((table.capacity + 63) / 64))
    }

    @Test func keysParseFromTextExactlyAsConversationIDsDo() throws {
        for text in [
            "3f2a5c9e-0000-4000-8000-00000000000a", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let id = try #require(ConversationID(text))
            let key = Array(text.utf8).withUnsafeBytes { UUIDTable.Key(ascii: $0) }
            #expect(key == id.key)
            #expect(ConversationID(key: id.key) == id)
        }
        for bad in [
            "3f2a5c9e-0000-4000-8000-00000000000", "3f2a5c9e00000-4000-8000-00000000000a",
            "3f2a5c9e-0000-4000-8000-00000000000g", "3f2a5c9e-0000-4000-8000-00000000000a ",
        ] {
            #expect(Array(bad.utf8).withUnsafeBytes { UUIDTable.Key(ascii: $0) } == nil, "\(bad)")
            #expect(ConversationID(bad) == nil)
        }
    }
}
