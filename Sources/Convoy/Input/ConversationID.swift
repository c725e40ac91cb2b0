import Foundation

/// A Genesys conversation id: a UUID, kept as 16 bytes and written in canonical lowercase form.
///
/// Only text of the form `8-4-4-4-12` hex digits (either case) is accepted, so nothing else ever
/// reaches a URL path.
public struct ConversationID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let uuid: UUID

    /// Parses `text`; nil unless it is exactly a UUID (surrounding spaces are not trimmed here).
    public init?(_ text: some StringProtocol) {
        let utf8 = text.utf8
        guard utf8.count == 36 else { return nil }
        for (offset, byte) in utf8.enumerated() {
            switch offset {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return nil }
            default:
                guard Self.isHexDigit(byte) else { return nil }
            }
        }
        guard let uuid = UUID(uuidString: String(text)) else { return nil }
        self.uuid = uuid
    }

    public init(uuid: UUID) {
        self.uuid = uuid
    }

    /// Canonical lowercase text, as Genesys writes ids.
    public var description: String { uuid.uuidString.lowercased() }

    public static func < (lhs: ConversationID, rhs: ConversationID) -> Bool {
        lhs.description < rhs.description
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            return true
        default:
            return false
        }
    }
}
