import Foundation

/// Writes Convoy's NDJSON records as bytes, by hand, so the server's document is embedded verbatim.
///
/// Output record (one line, `id` always first so a resume can read it without parsing the rest):
/// `{"id":"<uuid>","fetchedAt":"<ISO-8601 UTC, ms>","attempts":<n>,"provenance":{<part>:<source>,…},
///   "conversation":<server document>}`, with one key per ``ConversationPart`` fetched (`null` for a
/// part that does not apply). A source is `{"status":<HTTP status>,"correlationId":"<id>"|null}`
/// (see ``Provenance``); a batched part's is a list, one per request.
///
/// Error record:
/// `{"id":"<id or the raw input>","status":<HTTP status or null>,"correlationId":"<id>"|null,
///   "reason":"<text>","attempts":<n>,"retryable":<bool>,"failedAt":"<ISO-8601>"}` plus
/// `"part":"<name>"` when a part other than the first failed, and `"line":<n>` for input that was
/// not an id.
public enum RecordEncoder {
    /// The output record with several parts, each a key, compact JSON (`null` included) and the
    /// answers it rests on.
    public static func success(id: ConversationID, fetchedAt: Date, attempts: Int, parts: [RecordPart]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(parts.reduce(160) { $0 + $1.json.count + 2 * $1.key.utf8.count + 64 })
        line.append(contentsOf: #"{"id":""#.utf8)
        line.append(contentsOf: id.description.utf8)
        line.append(contentsOf: #"","fetchedAt":""#.utf8)
        line.append(contentsOf: timestamp(fetchedAt).utf8)
        line.append(contentsOf: #"","attempts":"#.utf8)
        line.append(contentsOf: String(attempts).utf8)
        line.append(contentsOf: #","provenance":{"#.utf8)
        for (index, part) in parts.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            appendString(part.key, to: &line)
            line.append(UInt8(ascii: ":"))
            if part.isBatched || part.sources.count != 1 {
                line.append(UInt8(ascii: "["))
                for (index, source) in part.sources.enumerated() {
                    if index > 0 { line.append(UInt8(ascii: ",")) }
                    source.appendJSON(to: &line)
                }
                line.append(UInt8(ascii: "]"))
            } else {
                part.sources[0].appendJSON(to: &line)
            }
        }
        line.append(UInt8(ascii: "}"))
        for part in parts {
            line.append(UInt8(ascii: ","))
            appendString(part.key, to: &line)
            line.append(UInt8(ascii: ":"))
            line.append(contentsOf: part.json)
        }
        line.append(UInt8(ascii: "}"))
        return line
    }

    /// The error record for an id that did not succeed.
    public static func failure(_ failure: FetchFailure, failedAt: Date) -> [UInt8] {
        var line: [UInt8] = []
        line.append(contentsOf: #"{"id":"#.utf8)
        appendString(failure.id, to: &line)
        line.append(contentsOf: #","status":"#.utf8)
        line.append(contentsOf: (failure.status.map(String.init) ?? "null").utf8)
        line.append(contentsOf: #","correlationId":"#.utf8)
        if let correlationID = failure.correlationID {
            appendString(correlationID, to: &line)
        } else {
            line.append(contentsOf: "null".utf8)
        }
        line.append(contentsOf: #","reason":"#.utf8)
        appendString(failure.reason, to: &line)
        line.append(contentsOf: #","attempts":"#.utf8)
        line.append(contentsOf: String(failure.attempts).utf8)
        if let part = failure.part {
            line.append(contentsOf: #","part":"#.utf8)
            appendString(part, to: &line)
        }
        line.append(contentsOf: #","retryable":"#.utf8)
        line.append(contentsOf: (failure.retryable ? "true" : "false").utf8)
        if let inputLine = failure.inputLine {
            line.append(contentsOf: #","line":"#.utf8)
            line.append(contentsOf: String(inputLine).utf8)
        }
        line.append(contentsOf: #","failedAt":""#.utf8)
        line.append(contentsOf: timestamp(failedAt).utf8)
        line.append(contentsOf: #""}"#.utf8)
        return line
    }

    /// A JSON array of `elements`, each already JSON, joined verbatim: `[e1,e2,…]`.
    public static func array(_ elements: [[UInt8]]) -> [UInt8] {
        var list: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in elements.enumerated() {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            list.append(contentsOf: element)
        }
        list.append(UInt8(ascii: "]"))
        return list
    }

    /// Appends `text` as a JSON string literal, escaping quotes, backslashes and control characters.
    public static func appendString(_ text: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): line.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): line.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): line.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): line.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                line.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
    }

    /// `2026-11-22T19:30:00.123Z`.
    public static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(milliseconds % 1000), 3))Z"
    }
}
