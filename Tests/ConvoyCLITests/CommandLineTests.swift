import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

@Suite struct CommandLineTests {
    @Test(arguments: [
        ["fetch", "--api-base", "http://127.0.0.1:1", "--bogus"],
        ["fetch", "--api-base", "http://api.example.com"],
        ["fetch", "--api-base", "ftp://127.0.0.1"],
        ["fetch", "--api-base", "https://api.mypurecloud.com"],  // no token
        ["fetch", "--api-base"],
        ["fetch", "--api-base", "http://127.0.0.1:1", "--concurrency", "0"],
        ["fetch", "--api-base", "http://127.0.0.1:1", "a.txt", "b.txt"],
        ["demo", "--headers", "smoke-signals"],
        ["fetch", "--api-base", "http://127.0.0.1:1", "--output", "a", "--output", "b"],
        ["fetch", "--api-base", "http://127.0.0.1:1", "--no-progress", "--no-progress"],
        ["fetch", "--api-base", "http://127.0.0.1:1", "--no-progress=yes"],
        ["fetch", "--api-base", "http://127.0.0.1:1", "--login-base", "ftp://x"],
        ["frobnicate"],
        [],
    ])
    func usageErrorsExit64WithAMessage(_ arguments: [String]) async {
        let (status, console) = await convoy(arguments)
        #expect(status == 64)
        #expect(console.capturedError.contains("convoy"))
    }

    @Test func bothOptionSpellingsWork() async throws {
        let scratch = try TemporaryDirectory()
        let (status, console) = await convoy(
            ["fetch", "/nonexistent/ids.txt", "--api-base=http://127.0.0.1:1", "--output=\(scratch.file("o"))"])
        #expect(status == 1, "past parsing, the missing file is the error")
        #expect(console.capturedError.contains("cannot open /nonexistent/ids.txt"))
    }

    @Test(arguments: ["fetch", "demo", "mock-server"])
    func everyCommandHasHelp(_ command: String) async {
        let (status, console) = await convoy([command, "--help"])
        #expect(status == 0)
        #expect(console.capturedOutput.contains("USAGE: convoy \(command)"))
        let (helpStatus, helpConsole) = await convoy(["help", command])
        #expect(helpStatus == 0 && helpConsole.capturedOutput == console.capturedOutput)
    }
}
