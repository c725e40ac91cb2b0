import Foundation

/// Why an id has no record: the failures of `fetch`'s errors files, by id, in words.
///
/// A line reads as `404: <reason>`, with `(part <name>)` when a part other than the conversation
/// failed and `retryable: run fetch again` for failures a re-run may fix (429, 5xx, network). A
/// later line of the same id replaces an earlier one. Lines that are not error records are ignored.
public struct FailureReasons: Sendable {
    private var reasons: [ConversationID: String] = [:]

    /// Reads every file; a file that does not exist has no failures.
    public init(paths: [String]) throws {
        for path in paths {
            try NDJSONFile.forEachLine(atPath: path) { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let text = object["id"] as? String, let id = ConversationID(text)
                else { return }
                reasons[id] = Self.describe(object)
            }
        }
    }

    public var count: Int { reasons.count }

    /// Why `id` failed, or nil when no errors file names it.
    public func reason(for id: ConversationID) -> String? { reasons[id] }

    private static func describe(_ failure: [String: Any]) -> String {
        var text = (failure["status"] as? Int).map { "\($0): " } ?? ""
        text += failure["reason"] as? String ?? "failed"
        if let part = failure["part"] as? String { text += " (part \(part))" }
        if (failure["retryable"] as? Bool) == true { text += "; retryable: run fetch again" }
        return text
    }
}
