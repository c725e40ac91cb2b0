import Convoy
import ConvoyMock
import Foundation

/// `convoy mock-export`: writes a stripped export of mock conversations, to try `fetch
/// --from-export` and `enrich` against `convoy mock-server`.
struct MockExportCommand {
    static let help = """
        USAGE: convoy mock-export DIR [--conversations N] [--layout s3|files] [--files M] [--seed S]

        Writes the kind of export that drops the compliance fields, for the sample conversations of
        'convoy mock-server --print-ids N' (the same ids for the same N and seed). No participant
        attributes (legal_hold), divisions, recording state, wrap-up codes or external tags:
        'convoy enrich' recovers them.

        LAYOUTS:
          s3      (default) what Genesys's bulk recording export to AWS S3 writes:
                  DIR/{org}/year=Y/month=M/day=D/hour=H/conversation_id={id}/ holding, per
                  recording, {recordingId}.opus (a call) or {recordingId}.json (a message
                  transcript) and {recordingId}_metadata.json (mediaType, provider, userIds, …;
                  only some name the conversation: the folder is the sure place)
          files   WhatsApp-style transcripts (DIR/transcripts/chat-NNN.ndjson, a line per message)
                  and recording exports (DIR/voice/recordings-NNN.json), many conversations a file

        OPTIONS:
          --conversations N     conversations in the export (default 2000)
          --layout L            s3 or files (default s3)
          --files M             with --layout files: files to spread them over (default 40)
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
    var layout: MockExport.Layout
    var seed: UInt64

    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        conversations = try arguments.integer("conversations", in: 1...10_000_000) ?? 2000
        files = try arguments.integer("files", in: 1...1_000_000) ?? 40
        let layoutText = try arguments.value("layout") ?? MockExport.Layout.s3.rawValue
        guard let layout = MockExport.Layout(rawValue: layoutText) else {
            throw ConvoyError.usage("--layout takes s3 or files, not '\(layoutText)'")
        }
        self.layout = layout
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
        let written = try MockExport.write(ids: ids, files: files, to: directory, layout: layout)
        switch layout {
        case .s3:
            console.print(
                "convoy mock-export: \(ids.count) conversations in \(written.count) conversation_id= folders under "
                    + "\(directory)/\(MockExport.organizationID) (Genesys's S3 layout)")
        case .files:
            console.print(
                "convoy mock-export: \(ids.count) conversations in \(written.count) files under \(directory) "
                    + "(\(written.filter { $0.path.hasPrefix("transcripts/") }.count) transcripts, "
                    + "\(written.filter { $0.path.hasPrefix("voice/") }.count) recording exports)")
        }
        return 0
    }
}
