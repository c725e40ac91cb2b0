import Convoy
import ConvoyMock
import Foundation

/// `convoy mock-export`: writes a stripped export of mock conversations, to try `fetch
/// --from-export` and `enrich` against `convoy mock-server`.
struct MockExportCommand {
    static let help = """
        USAGE: convoy mock-export DIR [--conversations N] [--files M] [--seed S]

        Writes the kind of export that drops the compliance fields: the sample conversations of
        'convoy mock-server --print-ids N' (the same ids for the same N and seed), messaging ones as
        WhatsApp-style transcripts (DIR/transcripts/chat-NNN.ndjson, a line per message) and voice
        ones as recording exports (DIR/voice/recordings-NNN.json). No participant attributes
        (legal_hold), divisions, start or end times, recording state, wrap-up codes or external
        tags: 'convoy enrich' recovers them.

        OPTIONS:
          --conversations N     conversations in the export (default 2000)
          --files M             files to spread them over (default 40)
          --seed S              which sample ids (default 42, as mock-server and demo use)
          -h, --help            show this help

        EXAMPLE:
          convoy mock-export ./export
          convoy mock-server --port 8080 &
          convoy fetch --from-export ./export --api-base http://127.0.0.1:8080 --output conversations.ndjson
          convoy enrich ./export --records conversations.ndjson --out ./enriched
        """

    var directory: String
    var conversations: Int
    var files: Int
    var seed: UInt64

    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        conversations = try arguments.integer("conversations", in: 1...10_000_000) ?? 2000
        files = try arguments.integer("files", in: 1...1_000_000) ?? 40
        seed = UInt64(try arguments.integer("seed", in: 0...Int.max) ?? 42)
        let positionals = arguments.takePositionals()
        try arguments.finish()
        guard positionals.count == 1, let directory = positionals.first else {
            throw ConvoyError.usage("convoy mock-export takes one folder, e.g. convoy mock-export ./export")
        }
        self.directory = directory
    }

    func run(console: Console) async throws -> Int32 {
        let ids = MockConversationStore.sampleIDs(count: conversations, seed: seed)
        let written = try MockExport.write(ids: ids, files: files, to: directory)
        console.print(
            "convoy mock-export: \(ids.count) conversations in \(written.count) files under \(directory) "
                + "(\(written.filter { $0.path.hasPrefix("transcripts/") }.count) transcripts, "
                + "\(written.filter { $0.path.hasPrefix("voice/") }.count) recording exports)")
        return 0
    }
}
