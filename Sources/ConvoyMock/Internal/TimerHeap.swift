/// A binary min-heap of response deadlines (monotonic nanoseconds); ties leave in insertion order.
struct TimerHeap {
    struct Entry {
        var deadline: UInt64
        /// Insertion counter, the tie-breaker that keeps equal deadlines first-in first-out.
        var order: UInt64
        var connection: UInt64
        var sequence: UInt64
    }

    private var entries: [Entry] = []
    private var insertions: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    /// The earliest deadline, if any.
    var nextDeadline: UInt64? { entries.first?.deadline }

    mutating func insert(deadline: UInt64, connection: UInt64, sequence: UInt64) {
        insertions &+= 1
        entries.append(Entry(deadline: deadline, order: insertions, connection: connection, sequence: sequence))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if its deadline is at or before `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count, Self.precedes(entries[left], entries[smallest]) { smallest = left }
                if right < entries.count, Self.precedes(entries[right], entries[smallest]) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    private static func precedes(_ lhs: Entry, _ rhs: Entry) -> Bool {
        lhs.deadline != rhs.deadline ? lhs.deadline < rhs.deadline : lhs.order < rhs.order
    }
}
