import Convoy
import ConvoyMock
import Foundation

/// `convoy mock-server`: the embedded mock Genesys API as a standalone server, for load-testing a
/// client's handling of rate limits, or for trying `convoy fetch` by hand.
struct MockServerCommand {
    static let help = """
        USAGE: convoy mock-server [--port N] [options]

        Serves GET /api/v2/conversations/{id} (and the analytics, recording-metadata, messaging and
        analytics-jobs endpoints) on 127.0.0.1 with deterministic documents, a server-side rate limit
        and injected faults, until Ctrl-C. Prints its base URL on standard error, and on standard
        output unless --print-ids asks for ids there instead.

        OPTIONS:
          --port N              port to listen on (default 0: any free port, printed at start)
          --print-ids N         print N sample ids (that the server knows) on standard output
        \(MockOptions.help
            .replacingOccurrences(of: "%LIMIT%", with: "300")
            .replacingOccurrences(of: "%WINDOW%", with: "60")
            .replacingOccurrences(of: "%LATENCY%", with: "0")
            .replacingOccurrences(of: "%MISSING%", with: "0"))
          -h, --help            show this help

        EXAMPLE:
          convoy mock-server --port 8080 --print-ids 1000 > ids.txt &
          convoy fetch ids.txt --api-base http://127.0.0.1:8080
        """

    var port: UInt16
    var printIDs: Int
    var mock: MockServerConfiguration

    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        port = UInt16(try arguments.integer("port", in: 0...65535) ?? 0)
        printIDs = try arguments.integer("print-ids", in: 0...10_000_000) ?? 0
        var defaults = MockServerConfiguration(rateLimit: .fixedWindow(limit: 300, window: .seconds(60)))
        defaults.port = port
        mock = try MockOptions(&arguments, defaults: defaults).configuration
        try arguments.finish()
    }

    func run(console: Console) async throws -> Int32 {
        let server = try MockAPIServer.start(mock)
        console.error(
            "convoy mock-server: listening on \(server.baseURL) (\(MockOptions.describe(mock))); Ctrl-C stops")
        // Standard output carries either the base URL or, with --print-ids, only ids (a clean ids file).
        if printIDs == 0 { console.print(server.baseURL.absoluteString) }
        for id in MockConversationStore.sampleIDs(count: printIDs) { console.print(id) }
        let stop = Task {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
        let trap = SignalTrap { _ in stop.cancel() }
        await stop.value
        trap.cancel()
        server.shutdown()
        let counters = server.counters()
        console.error(
            "convoy mock-server: served \(counters.requests) requests, \(counters.tooManyRequests) answered 429")
        return 0
    }
}
