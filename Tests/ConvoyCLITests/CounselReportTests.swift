import Convoy
import ConvoyMock
import Foundation
import Testing

@testable import ConvoyCLI

/// What a legal-hold user hands counsel: the operator and host in the manifest, `verify --json`,
/// and `convoy report`'s one self-contained HTML file.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CounselReportTests {
    /// A fetch of an export's conversations (some unknown to the mock), then its enrichment.
    struct Fixture: ~Copyable {
        let scratch: TemporaryDirectory
        var output: String { scratch.file("conversations.ndjson") }
        var enriched: String { scratch.file("enriched") }
        var errors: String { scratch.file("conversations.errors.ndjson") }
    }

    static func fixture() async throws -> Fixture {
        let fixture = Fixture(scratch: try TemporaryDirectory())
        let export = fixture.scratch.file("export")
        #expect(await convoy(["mock-export", export, "--conversations", "40"]).status == 0)
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 200))
        defer { server.shutdown() }
        let fetch = await convoy([
            "fetch", "--from-export", export, "--api-base", server.baseURL.absoluteString, "--output", fixture.output,
            "--no-progress",
        ])
        #expect(fetch.status == 2, "\(fetch.console.capturedError)")
        let enrich = await convoy(["enrich", export, "--records", fixture.output, "--out", fixture.enriched])
        #expect(enrich.status == 2, "\(enrich.console.capturedError)")
        // The enrich summary, too, says how it ended, last.
        let last = enrich.console.capturedOutput.split(separator: "\n").last.map(String.init) ?? ""
        #expect(
            last.wholeMatch(
                of:
                    #/convoy enrich: done: [1-9]\d* ids without a record, 0 invalid \(each with its reason in .*report\.ndjson\)/#
            )
                != nil, "\(last)")
        return fixture
    }

    @Test func theManifestNamesTheOperatorAndTheHost() async throws {
        let fixture = try await Self.fixture()
        let manifest = try records(fixture.scratch.file("conversations.manifest.ndjson"))
        let last = try #require(manifest.last)
        #expect(last["user"] as? String == FetchRunner.operatorName && FetchRunner.operatorName?.isEmpty == false)
        #expect(last["host"] as? String == ProcessInfo.processInfo.hostName && last["host"] != nil)
    }

    @Test func verifyJSONSaysTheResultAndEachCheck() async throws {
        let fixture = try await Self.fixture()
        let (status, console) = await convoy(["verify", fixture.output, "--json"])
        #expect(status == 0)
        let result = try #require(
            JSONSerialization.jsonObject(with: Data(console.capturedOutput.utf8)) as? [String: Any])
        #expect(result["verified"] as? Bool == true && result["discrepancies"] as? Int == 0)
        #expect(result["output"] as? String == ManifestPath.absolute(fixture.output))
        let checks = try #require(result["checks"] as? [[String: Any]])
        #expect(checks.count >= 4 && checks.allSatisfy { $0["ok"] as? Bool == true })

        let handle = try #require(FileHandle(forWritingAtPath: fixture.output))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"id":"00000000-0000-4000-8000-000000000001"}"#.utf8 + [10]))
        try handle.close()
        let (tampered, after) = await convoy(["verify", fixture.output, "--json"])
        #expect(tampered == 1)
        let failed = try #require(JSONSerialization.jsonObject(with: Data(after.capturedOutput.utf8)) as? [String: Any])
        #expect(failed["verified"] as? Bool == false && (failed["discrepancies"] as? Int ?? 0) > 0)
    }

    @Test func theReportIsOneSelfContainedPageWithEverythingCounselNeeds() async throws {
        let fixture = try await Self.fixture()
        let html = fixture.scratch.file("custody.html")
        let (status, console) = await convoy(["report", fixture.output, "--enriched", fixture.enriched, "--html", html])
        #expect(status == 0, "\(console.capturedError)")
        #expect(console.capturedError == "convoy report: \(html): 1 manifest line, verified\n")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("</html>"))
        #expect(page.contains("Verified: nothing added, dropped or altered"))
        // The run, its operator and host, and the output's hash as the manifest recorded it.
        let manifest = try #require(try records(fixture.scratch.file("conversations.manifest.ndjson")).last)
        let hash = try #require((manifest["output"] as? [String: Any])?["sha256"] as? String)
        #expect(page.contains(hash))
        #expect(page.contains("\(FetchRunner.operatorName ?? "?") on \(ProcessInfo.processInfo.hostName)"))
        // Every failed id with its reason, and the field-recovery table.
        let failures = try records(fixture.errors)
        #expect(!failures.isEmpty)
        for failure in failures { #expect(page.contains(failure["id"] as! String)) }
        #expect(page.contains("not found (HTTP 404)"))
        #expect(page.contains("conversation.participants[].attributes.legal_hold"))
        #expect(page.contains("<svg") && page.contains("fetched") && page.contains("run 1"))
        // Self-contained: nothing loaded from elsewhere, no script.
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("<link"))
        #expect(!page.contains("href=") && !page.contains("url(http"))
    }

    @Test func theReportCanGoToStandardOutput() async throws {
        let fixture = try await Self.fixture()
        let (status, console) = await convoy(["report", fixture.output, "--html", "-"])
        #expect(status == 0)
        #expect(console.capturedOutput.hasPrefix("<!DOCTYPE html>") && console.capturedOutput.contains("Verified"))
        #expect(console.capturedError == "convoy report: -: 1 manifest line, verified\n")
    }

    @Test func aTamperedOutputIsReportedAsNotVerified() async throws {
        let fixture = try await Self.fixture()
        var text = try String(contentsOfFile: fixture.output, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"conversation\"", with: "\"Conversation\"")
        try text.write(toFile: fixture.output, atomically: false, encoding: .utf8)
        let html = fixture.scratch.file("custody.html")
        let (status, _) = await convoy(["report", fixture.output, "--html", html])
        #expect(status == 1)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("NOT verified"))
        #expect(page.contains("<span class=fail>FAIL</span>"))
    }

    /// Debian's headless Chromium, when installed.
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test(.enabled(if: chromium != nil, "headless Chromium is not installed"))
    func aRealBrowserRendersTheReport() async throws {
        let fixture = try await Self.fixture()
        let html = fixture.scratch.file("custody.html")
        #expect(await convoy(["report", fixture.output, "--enriched", fixture.enriched, "--html", html]).status == 0)
        let shot = fixture.scratch.file("custody.png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600",
            "--user-data-dir=\(fixture.scratch.file("chromium"))", "--screenshot=\(shot)", "file://\(html)",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(png.count > 20_000, "a rendered page, not a blank one: \(png.count) bytes")
    }

    @Test func valuesFromFilesAreEscaped() {
        var report = CustodyReport(outputPath: "o<script>.ndjson", manifestPath: "m", generatedAt: "now", tool: "t")
        report.failures = [["id": "<img onerror=x>", "reason": "a & b"]]
        let page = report.html()
        #expect(!page.contains("<img onerror") && page.contains("&lt;img onerror=x&gt;") && page.contains("a &amp; b"))
        #expect(!page.contains("o<script>"))
    }
}
