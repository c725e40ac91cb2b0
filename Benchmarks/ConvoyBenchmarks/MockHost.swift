import ConvoyMock
import Foundation

/// The mock API in a child process, so the client's CPU and memory are measured alone.
///
/// Protocol on the child's standard input/output, one line each: the child prints its base URL when
/// ready; `limit` applies the scenario's limit change; `counters` prints the counters as JSON; end
/// of input shuts it down.
final class MockHost: @unchecked Sendable {  // used by one orchestrating task at a time
    let baseURL: URL
    private let process: Process
    private let input: FileHandle
    private var output: LineReader

    init(executable: URL, arguments: [String]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = ["--serve"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        input = stdin.fileHandleForWriting
        output = LineReader(stdout.fileHandleForReading)
        guard let line = output.next(), let url = URL(string: line) else {
            throw BenchmarkError("the mock server did not start")
        }
        baseURL = url
    }

    func changeLimit() {
        try? input.write(contentsOf: Data("limit\n".utf8))
    }

    /// The server's counts: every request, 429s, 401s and token requests.
    func counters() -> (requests: Int, throttled: Int, unauthorized: Int, tokenRequests: Int) {
        try? input.write(contentsOf: Data("counters\n".utf8))
        guard let line = output.next(),
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int]
        else { return (0, 0, 0, 0) }
        return (
            object["requests"] ?? 0, object["throttled"] ?? 0, object["unauthorized"] ?? 0, object["tokenRequests"] ?? 0
        )
    }

    func stop() {
        try? input.close()
        process.waitUntilExit()
    }

    /// The child's side: serve `scenario` until standard input closes.
    static func serve(_ scenario: Scenario) throws {
        let server = try MockAPIServer.start(scenario.server)
        FileHandle.standardOutput.write(Data((server.baseURL.absoluteString + "\n").utf8))
        var commands = LineReader(FileHandle.standardInput)
        while let command = commands.next() {
            switch command {
            case "limit":
                if let change = scenario.limitChange { server.updateRateLimit(change) }
            case "counters":
                let counters = server.counters()
                let line =
                    #"{"requests":\#(counters.requests),"throttled":\#(counters.tooManyRequests),"#
                    + #""unauthorized":\#(counters.unauthorized),"tokenRequests":\#(counters.tokenRequests)}"#
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            default:
                break
            }
        }
        server.shutdown()
    }
}

/// Reads lines from a file handle, blocking.
struct LineReader {
    let handle: FileHandle
    var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
