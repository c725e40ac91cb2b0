import Foundation

/// A field to look for, named by its path in a fetched record: `conversation.participants[].attributes.legal_hold`.
///
/// Syntax: member names joined by `.`; `[]` after a name marks an array. Arrays are stepped into
/// whether marked or not: the path names members of objects at any depth of arrays. A field is
/// *present* when a member at the path has a value other than `null`, `""`, `[]` or `{}`.
///
/// In an export, the same path is looked up without its first member (the record's part name), so
/// `conversation.startTime` is found as `startTime` in the object that holds the `conversationId`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// The path as written.
    public let description: String
    /// The member names, `[]` removed.
    let members: [String]

    /// What legal and audit users look for in a Genesys conversation: the legal-hold attribute and
    /// all participant attributes, divisions, start and end, recording state, wrap-up codes and the
    /// external tag.
    public static let defaults: [FieldPath] = [
        "conversation.participants[].attributes.legal_hold",
        "conversation.participants[].attributes",
        "conversation.divisions[].division.id",
        "conversation.startTime",
        "conversation.endTime",
        "conversation.recordingState",
        "conversation.participants[].wrapup.code",
        "conversation.externalTag",
    ].map { FieldPath($0)! }

    /// nil when `text` is empty or has an empty member (`a..b`, `.a`).
    public init?(_ text: String) {
        let members = text.split(separator: ".", omittingEmptySubsequences: false).map { member in
            var name = Substring(member)
            while name.hasSuffix("[]") { name = name.dropLast(2) }
            return String(name)
        }
        guard !members.isEmpty, !members.contains(where: \.isEmpty) else { return nil }
        description = text
        self.members = members
    }

    /// Which of `fields` a JSON text has: bit `i` set when `fields[i]` is present. `inExport` drops
    /// each path's first member. nil when `json` is not one JSON value. At most 64 fields.
    ///
    /// One pass over the bytes, nothing built: the parser reports each member with the keys of the
    /// members around it, and a field matches when those keys are its path.
    public static func presence(
        of fields: [FieldPath], in json: UnsafeBufferPointer<UInt8>, inExport: Bool = false
    ) -> UInt64? {
        precondition(fields.count <= 64, "at most 64 fields")
        let paths = fields.map { field in
            (inExport ? field.members.dropFirst() : field.members[...]).map { Array($0.utf8) }
        }
        var parser = JSONParser(input: json, sink: Matcher(input: json, paths: paths))
        guard parser.document() else { return nil }
        return parser.sink.found
    }

    /// Tracks the keys of the open members and marks the paths they complete.
    private struct Matcher: JSONSink {
        let input: UnsafeBufferPointer<UInt8>
        let paths: [[[UInt8]]]
        var open: [Range<Int>] = []
        var found: UInt64 = 0

        mutating func memberStarted(key: Range<Int>) { open.append(key) }

        mutating func member(key: Range<Int>, value: Range<Int>) {
            defer { open.removeLast() }
            guard !isEmpty(value) else { return }
            for (bit, path) in paths.enumerated()
            where found & 1 << UInt64(bit) == 0 && path.count == open.count && matches(path) {
                found |= 1 << UInt64(bit)
            }
        }

        private func matches(_ path: [[UInt8]]) -> Bool {
            for (name, key) in zip(path, open) {
                let text = UnsafeBufferPointer(rebasing: input[key.lowerBound + 1..<key.upperBound - 1])
                if text.elementsEqual(name) { continue }
                // An escaped key (`"legal\u005fhold"`) is compared as text.
                guard text.contains(UInt8(ascii: "\\")),
                    let decoded = try? JSONSerialization.jsonObject(
                        with: Data(UnsafeBufferPointer(rebasing: input[key])), options: [.fragmentsAllowed]) as? String,
                    Array(decoded.utf8) == name
                else { return false }
            }
            return true
        }

        /// `null`, `""`, `[]` or `{}` (whitespace inside allowed).
        private func isEmpty(_ value: Range<Int>) -> Bool {
            switch input[value.lowerBound] {
            case UInt8(ascii: "n"): return true
            case UInt8(ascii: "\""): return value.count == 2
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                return input[value.lowerBound + 1..<value.upperBound - 1].allSatisfy {
                    $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D
                }
            default: return false
            }
        }
    }
}
