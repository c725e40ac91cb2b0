import Convoy
import Foundation
import Testing

@Suite struct FieldPathTests {
    let record = """
        {"id":"x","conversation":{"startTime":"2026-01-01T00:00:00.000Z","externalTag":"","recordingState":null,
         "participants":[{"purpose":"customer","attributes":{"legal\\u005fhold":"true"}},
                         {"purpose":"agent","attributes":{ },"wrapup":{"code":"w1"}}],
         "divisions":[ ],"nested":[[{"deep":1}]]}}
        """

    func present(_ paths: [String], in json: String, inExport: Bool = false) throws -> [Bool] {
        let fields = try paths.map { try #require(FieldPath($0), "\($0)") }
        let mask = try #require(
            Array(json.utf8).withUnsafeBufferPointer { FieldPath.presence(of: fields, in: $0, inExport: inExport) })
        return fields.indices.map { mask & 1 << UInt64($0) != 0 }
    }

    @Test func aFieldIsPresentWhenAMemberAtThePathHasAValueThatIsNotEmpty() throws {
        let present = [
            "conversation.startTime", "conversation.participants[].attributes.legal_hold",
            "conversation.participants.attributes.legal_hold", "conversation.participants[].attributes",
            "conversation.participants[].wrapup.code", "conversation", "conversation.nested[].deep",
        ]
        let absent = [
            "conversation.endTime", "conversation.externalTag", "conversation.recordingState",
            "conversation.divisions[].division.id", "conversation.divisions", "conversation.startTime.more",
            "analytics.divisionIds", "participants", "conversation.participants.purpose.x",
        ]
        #expect(try self.present(present, in: record) == present.map { _ in true })
        #expect(try self.present(absent, in: record) == absent.map { _ in false })
    }

    @Test func inAnExportThePathIsLookedUpWithoutThePartName() throws {
        let export =
            #"{"conversationId":"x","startTime":"2026","participants":[{"attributes":{"legal_hold":"false"}}]}"#
        #expect(
            try present(
                [
                    "conversation.startTime", "conversation.participants[].attributes.legal_hold",
                    "conversation.endTime", "conversation",
                ],
                in: export, inExport: true) == [true, true, false, false])
    }

    @Test func textThatIsNotJSONHasNoFields() throws {
        let field = try #require(FieldPath("a.b"))
        #expect(Array(#"{"a":{"b":1}"#.utf8).withUnsafeBufferPointer { FieldPath.presence(of: [field], in: $0) } == nil)
    }

    @Test func emptyMembersAreRefused() {
        for text in ["", ".", "a..b", ".a", "a.", "[]"] { #expect(FieldPath(text) == nil, "\(text)") }
        #expect(FieldPath.defaults.count == 8)
    }
}
