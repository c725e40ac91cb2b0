import Foundation

/// Decodes `application/x-www-form-urlencoded` text: query strings and token request bodies.
enum QueryString {
    /// The `name=value` pairs of `text` in order, names and values percent-decoded with `+` as a space. A pair
    /// without `=` has an empty value; empty pairs are skipped; an undecodable part is kept as sent.
    static func pairs<S: StringProtocol>(_ text: S) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The query parameters of a request target (`/path?query`).
    static func parameters(ofTarget target: String) -> [(name: String, value: String)] {
        guard let question = target.firstIndex(of: "?") else { return [] }
        return pairs(target[target.index(after: question)...])
    }

    /// The first value of `name` among `pairs`.
    static func value(_ name: String, in pairs: [(name: String, value: String)]) -> String? {
        pairs.first { $0.name == name }?.value
    }

    private static func decode<S: StringProtocol>(_ text: S) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
