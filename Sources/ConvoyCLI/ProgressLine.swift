import Glibc

/// A live progress line that fits the terminal: segments kept by priority until the next would
/// not fit, shown in their own order, two spaces apart. The line is at most `width − 1`
/// characters, so the cursor never reaches the last column and the terminal never wraps it (a
/// wrapped line cannot be redrawn in place).
struct ProgressLine {
    struct Segment {
        var text: String
        /// 0 first: kept before the others when the width is short.
        var priority: Int
    }

    var segments: [Segment] = []

    mutating func add(_ text: String, priority: Int) { segments.append(Segment(text: text, priority: priority)) }

    /// The segments that fit in `width` columns, in their order; the most important one, cut,
    /// when even it does not fit.
    func fitted(width: Int) -> String {
        let room = max(1, width - 1)
        var kept = Set<Int>()
        var used = 0
        for index in segments.indices.sorted(by: { segments[$0].priority < segments[$1].priority }) {
            let cost = segments[index].text.count + (kept.isEmpty ? 0 : 2)
            if used + cost <= room {
                kept.insert(index)
                used += cost
            }
        }
        let line = segments.indices.filter(kept.contains).map { segments[$0].text }.joined(separator: "  ")
        if line.isEmpty, let first = segments.min(by: { $0.priority < $1.priority }) {
            return String(first.text.prefix(room))
        }
        return line
    }

    /// The terminal's width: standard error's window size (TIOCGWINSZ), else `COLUMNS`, else 80.
    static func terminalColumns(environment: [String: String]) -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }
}
