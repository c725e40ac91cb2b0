/// "Did you mean …?" for a misspelt command, option or name: the closest known word by edit
/// distance, when it is close enough to be what was meant.
enum Suggestion {
    /// The known word nearest to `word` (Levenshtein distance, ties to the first given), when the
    /// distance is small for its length (1 up to 4 characters, else a third of them, 2 to 3);
    /// nil otherwise.
    static func closest(to word: String, in known: some Sequence<String>) -> String? {
        let limit = word.count <= 4 ? 1 : min(3, max(2, word.count / 3))
        var best: (word: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.word
    }

    /// `" (did you mean 'x'?)"`, or the empty string when nothing is close.
    static func hint(for word: String, in known: some Sequence<String>, prefix: String = "") -> String {
        closest(to: word, in: known).map { " (did you mean '\(prefix)\($0)'?)" } ?? ""
    }

    /// The Levenshtein distance between `a` and `b`, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
