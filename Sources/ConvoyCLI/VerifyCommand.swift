import Convoy
import Foundation

/// `convoy verify`: checks an output against its manifest, and optionally against its input.
struct VerifyCommand {
    static let help = """
        USAGE: convoy verify OUTPUT [--input IDS_FILE | --from-export PATH] [--errors FILE] [--manifest FILE]
               convoy verify ENRICH_DIR [--from-export PATH]

        Checks that OUTPUT, its errors file and its manifest are as the last run of 'convoy fetch'
        left them, and that nothing was added, dropped or altered since:
          - the manifest: every line sealed (its own SHA-256) and chained (the SHA-256 of the line
            before), so an edited, removed or inserted line shows;
          - the output: SHA-256, size and line count as the last run recorded, and its first bytes
            as each earlier run recorded them (an output only grows);
          - the errors file: SHA-256, size and line count as recorded;
          - the records: every line valid JSON with an id, no id twice, none in both files;
          - with --input or --from-export: every id of the input (of the run's shard, with --shard) is in exactly one
            of the two files, and no record is for an id the input does not hold.

        Given the folder of 'convoy enrich --out DIR', it checks that folder's manifest instead: every
        export file still as the last run read it (the originals untouched, none added), and every
        sidecar, merged file and report as the run wrote it.

        For an output that was streamed (--output -), give the stored copy as OUTPUT and the run's
        --manifest: its records are checked against the figures of the stream.

        OPTIONS:
          --input FILE          the ids the runs were given ('-' for standard input)
          --from-export PATH    or the recording export they were read from, as 'fetch --from-export'
          --errors FILE         the errors file (default: the one the manifest names)
          --manifest FILE       the manifest (default: the output name with .manifest.ndjson)
          --json                the result as one JSON object on standard output: verified, output,
                                manifest, and each check's subject and discrepancies
          -h, --help            show this help

        EXIT STATUS: 0 verified, 1 a discrepancy (each is named), 64 usage error.

        EXAMPLE:
          convoy verify conversations.ndjson --input ids.txt
        """

    var outputPath: String
    var errorsPath: String?
    var manifestPath: String?
    var inputPath: String?
    var exportPath: String?
    /// `--json`: the result as JSON, for a program or a report.
    var json = false

    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        json = try arguments.flag("json")
        errorsPath = try arguments.value("errors")
        manifestPath = try arguments.value("manifest")
        inputPath = try arguments.value("input")
        exportPath = try arguments.value("from-export")
        if inputPath != nil, exportPath != nil {
            throw ConvoyError.usage("give --input or --from-export, not both")
        }
        let positionals = arguments.takePositionals()
        try arguments.finish()
        guard positionals.count == 1, let output = positionals.first else {
            throw ConvoyError.usage("convoy verify takes one output file, e.g. convoy verify conversations.ndjson")
        }
        outputPath = output
    }

    func run(console: Console) async throws -> Int32 {
        if EnrichVerifier.isEnrichFolder(outputPath) {
            guard inputPath == nil, errorsPath == nil, manifestPath == nil else {
                throw ConvoyError.usage(
                    "an enrich folder is verified against its own manifest; give only --from-export")
            }
            let verifier = EnrichVerifier(directory: outputPath, exportPath: exportPath)
            return report(try verifier.verify(), against: verifier.manifestPath, console: console)
        }
        let verifier = CustodyVerifier(outputPath: outputPath, errorsPath: errorsPath, manifestPath: manifestPath)
        // A missing file is said as missing, not as an empty manifest.
        guard FileManager.default.fileExists(atPath: outputPath) else {
            throw ConvoyError.input("\(outputPath) does not exist: nothing to verify")
        }
        guard FileManager.default.fileExists(atPath: verifier.manifestPath) else {
            throw ConvoyError.input(
                "no manifest at \(verifier.manifestPath): nothing to verify \(outputPath) against "
                    + "(convoy fetch writes it beside the output; --manifest names another)")
        }
        let checks: [CustodyVerifier.Check]
        if let exportPath {
            let export = ExportScanner(path: exportPath)
            _ = try export.files()  // a missing export is a usage mistake, said before any check
            checks = try await verifier.verify(input: export)
        } else {
            let input: IDReader? = inputPath.map { $0 == "-" ? IDReader.standardInput : IDReader(path: $0) }
            try input?.validate()
            checks = try await verifier.verify(input: input)
        }
        return report(checks, against: verifier.manifestPath, console: console)
    }

    private func report(_ checks: [CustodyVerifier.Check], against manifest: String, console: Console) -> Int32 {
        let problems = checks.reduce(0) { $0 + $1.discrepancies.count }
        if json {
            console.print(Self.json(checks, output: outputPath, manifest: manifest))
            return problems == 0 ? 0 : 1
        }
        console.print("convoy verify: \(ManifestPath.absolute(outputPath)) against \(ManifestPath.absolute(manifest))")
        for check in checks {
            if check.discrepancies.isEmpty {
                console.print("  ok    \(check.subject)")
            } else {
                for discrepancy in check.discrepancies {
                    console.print("  FAIL  \(discrepancy)")
                }
            }
        }
        if problems == 0 {
            console.print("verified: nothing added, dropped or altered since the last run")
            return 0
        }
        console.print("NOT verified: \(problems) discrepanc\(problems == 1 ? "y" : "ies")")
        return 1
    }

    /// The result as one JSON object (sorted keys): `verified`, `output`, `manifest` (absolute
    /// paths), `discrepancies` (their count) and `checks`, each with `subject`, `ok` and
    /// `discrepancies`.
    static func json(_ checks: [CustodyVerifier.Check], output: String, manifest: String) -> String {
        let problems = checks.reduce(0) { $0 + $1.discrepancies.count }
        let object: [String: Any] = [
            "verified": problems == 0, "output": ManifestPath.absolute(output),
            "manifest": ManifestPath.absolute(manifest), "discrepancies": problems,
            "checks": checks.map {
                ["subject": $0.subject, "ok": $0.discrepancies.isEmpty, "discrepancies": $0.discrepancies]
                    as [String: Any]
            },
        ]
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
