import Convoy
import Testing

@Suite(.timeLimit(.minutes(1))) struct JSONCompactorTests {
    static func compact(_ text: String) -> String? {
        JSONCompactor.compact(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func removesWhitespaceOutsideStringsOnly() {
        let pretty = """
            {
              "id" : "a b",
              "participants" : [ { "name" : "Zoë \\"VIP\\" Müller\\n" , "n" : -1.50e+3 } ],
              "empty" : { }, "list" : [ ], "flags" : [ true , false , null ]
            }

            """
        #expect(
            Self.compact(pretty)
                == #"{"id":"a b","participants":[{"name":"Zoë \"VIP\" Müller\n","n":-1.50e+3}],"empty":{},"list":[],"flags":[true,false,null]}"#
        )
    }

    @Test func keepsEscapesAndNumbersVerbatim() {
        #expect(Self.compact(#"["\u00e9\/", 1.0, 0, -0.0, 1E9]"#) == #"["\u00e9\/",1.0,0,-0.0,1E9]"#)
    }

    @Test func compactOutputHasNoRawNewline() {
        let out = Self.compact("{\n\"a\":\r\n[1,\n2]\n}")!
        #expect(!out.contains("\n") && !out.contains("\r"))
    }

    @Test(arguments: [
        "", "   ", "{", #"{"a":1"#, #"{"a" 1}"#, #"{"a":1,}"#, "[1,2", "[1 2]", "{\"a\":\"line\nbreak\"}",
        #"{"a":"\x"}"#,
        #""\u12""#, "01", "1.", "-", "+1", "1e", "tru", "nul", "{} {}", "<html>", #"{1:2}"#, #"{"a":1}x"#,
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(Self.compact(text) == nil)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(JSONCompactor.compact([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]) == nil)
    }

    @Test func rejectsNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(Self.compact(deep) == nil)
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(Self.compact(fine) == fine)
    }
}
