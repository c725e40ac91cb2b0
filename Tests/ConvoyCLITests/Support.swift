import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// Writes `ids`, one per line, to `ids.txt` in `directory` and returns its path.
func writeIDs(_ ids: [String], in directory: borrowing TemporaryDirectory) throws -> String {
    let path = directory.file("ids.txt")
    try ids.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The records of an NDJSON file, parsed; fails the test on a line that is not a JSON object.
func records(_ path: String) throws -> [[String: Any]] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.isEmpty || text.hasSuffix("\n"), "every record ends with a newline")
    return try text.split(separator: "\n").map { line in
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
    }
}

func ids(_ path: String) throws -> [String] {
    try records(path).map { $0["id"] as! String }
}

/// Runs `convoy` in-process and returns its exit status and captured console.
func convoy(_ arguments: [String], environment: [String: String] = [:]) async -> (status: Int32, console: Console) {
    let console = Console.capturing()
    let status = await ConvoyCommandLine.main(arguments, environment: environment, console: console)
    return (status, console)
}

/// The `convoy` executable that `swift test` built next to the test bundle.
func convoyExecutable() throws -> URL {
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while folder.path != "/" {
        let candidate = folder.appendingPathComponent("convoy")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        folder.deleteLastPathComponent()
    }
    throw ConvoyError.configuration("the convoy executable is not built next to \(CommandLine.arguments[0])")
}

func lineCount(_ path: String) -> Int {
    guard let data = FileManager.default.contents(atPath: path) else { return 0 }
    return data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
}
