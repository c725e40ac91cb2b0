import Convoy
import ConvoyMock
import Foundation
import Glibc
import Testing

@testable import ConvoyCLI

/// Issue 23 end to end: what an attacker on the same machine or network tries, on 127.0.0.1.
@Suite(.serialized, .timeLimit(.minutes(2))) struct SecurityEndToEndTests {
    // MARK: loopback means a literal address

    @Test(arguments: [
        "http://127.evil.example", "http://127.0.0.1.example", "http://127.1.2.3.nip.io:8080/",
        "http://localhost.evil.example", "http://0x7f000001",
    ])
    func plainHTTPToANameThatLooksLikeLoopbackIsRefused(_ base: String) async {
        let environment = ["GENESYSCLOUD_ACCESS_TOKEN": "token-\(UUID())"]
        let (status, console) = await convoy(
            ["fetch", "ids.txt", "--api-base", base, "--no-progress"], environment: environment)
        #expect(status == 64, "\(console.capturedError)")
        #expect(
            console.capturedError.hasPrefix(
                "convoy: error: --api-base must use https, not '\(base)' (plain http is allowed only on "
                    + "127.0.0.1/localhost)"))
        let (loginStatus, loginConsole) = await convoy(
            ["fetch", "ids.txt", "--api-base", "https://api.example.com", "--login-base=\(base)"],
            environment: environment)
        #expect(loginStatus == 64, "\(loginConsole.capturedError)")
        #expect(loginConsole.capturedError.contains("--login-base must use https"))
        let (loadStatus, loadConsole) = await convoy(
            ["loadtest", base + "/x", "--rate", "1/s", "--duration", "1s"], environment: environment)
        #expect(loadStatus == 64, "\(loadConsole.capturedError)")
        #expect(loadConsole.capturedError.contains("may carry a token in clear"))
    }

    @Test(arguments: ["http://127.0.0.1:1", "http://127.254.0.9:1/", "http://[::1]:1", "http://LOCALHOST:1"])
    func plainHTTPToALoopbackLiteralIsAllowed(_ base: String) throws {
        let command = try FetchCommand(arguments: ["ids.txt", "--api-base", base], environment: [:])
        #expect(command.apiBase.absoluteString == base)
        _ = try LoadTestCommand(arguments: [base + "/x", "--rate", "1/s", "--duration", "1s"], environment: [:])
    }

    @Test func plainHTTPThroughAProxyNeedsConsent() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 3), in: scratch)
        let base = server.baseURL.absoluteString
        let proxyPassword = "proxy-\(UUID())"
        for proxy in ["http_proxy", "all_proxy", "ALL_PROXY"] {
            // The proxy's own password never shows in the message that names it.
            let setting =
                proxy == "all_proxy" ? "http://me:\(proxyPassword)@proxy.example:3128" : "http://proxy.example:3128"
            let environment = [proxy: setting, "GENESYSCLOUD_ACCESS_TOKEN": "token-\(UUID())"]
            let (status, console) = await convoy(
                ["fetch", input, "--api-base", base, "--output", scratch.file("o.ndjson")], environment: environment)
            #expect(status == 64, "\(proxy): \(console.capturedError)")
            #expect(
                console.capturedError.hasPrefix(
                    "convoy: error: plain http to 127.0.0.1 would go through the proxy http://proxy.example:3128 "
                        + "(http_proxy or all_proxy), which would see the token in clear: add the host to no_proxy, "
                        + "or unset the proxy for this command"), "\(console.capturedError)")
            let (loadStatus, loadConsole) = await convoy(
                ["loadtest", base + "/x", "--rate", "1/s", "--duration", "1s"], environment: environment)
            #expect(loadStatus == 64)
            #expect(loadConsole.capturedError.contains("or give --insecure-http to allow it"))
            #expect(!(console.capturedError + loadConsole.capturedError).contains(proxyPassword))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("o.ndjson")), "refused before any file")
        #expect(server.counters().requests == 0, "refused before any request")
        // Exempted by no_proxy, or with the proxy itself on loopback, the run goes.
        for environment in [
            ["http_proxy": "http://proxy.example:3128", "no_proxy": "localhost,127.0.0.1"],
            ["http_proxy": "http://127.0.0.1:9"],
        ] {
            #expect(throws: Never.self) {
                _ = try FetchCommand(arguments: [input, "--api-base", base], environment: environment)
            }
        }
        // Over https, the proxy only sees a tunnel.
        _ = try FetchCommand(
            arguments: [input, "--api-base", "https://api.example.com"],
            environment: ["https_proxy": "http://proxy.example:3128", "GENESYSCLOUD_ACCESS_TOKEN": "t0ken"])
    }

    // MARK: one redaction

    /// Plants a secret in every way a user can pass one, drives every command, and greps every file
    /// they wrote and both streams of each.
    @Test func noSecretReachesAnyFileOrStream() async throws {
        let scratch = try TemporaryDirectory()
        func secret(_ name: String) -> String { "\(name)SECRET\(UUID().uuidString.prefix(8))" }
        let secrets = [
            "urlEquals": secret("urlEquals"), "urlSpace": secret("urlSpace"), "tokenEquals": secret("tokenEquals"),
            "tokenSpace": secret("tokenSpace"), "tokenEnv": secret("tokenEnv"), "fileSecret": secret("fileSecret"),
            "envSecret": secret("envSecret"), "loginURL": secret("loginURL"), "header": secret("header"),
            "headerEquals": secret("headerEquals"), "loadURL": secret("loadURL"), "loadToken": secret("loadToken"),
            "refused": secret("refused"), "tokensFile": secret("tokensFile"),
        ]
        let plain = try MockAPIServer.start(MockServerConfiguration())
        defer { plain.shutdown() }
        var clients = MockOAuth(clientId: "file-client", clientSecret: secrets["fileSecret"]!)
        clients.otherClients = ["env-client": secrets["envSecret"]!]
        let oauth = try MockAPIServer.start(MockServerConfiguration(oauth: clients))
        defer { oauth.shutdown() }
        let inputs = try TemporaryDirectory()  // what the user wrote: it holds the secrets by design
        let ids = MockConversationStore.sampleIDs(count: 20, seed: 42)
        let input = try writeIDs(ids, in: inputs)
        let credentials = inputs.file("client.json")
        try #"{"clientId":"file-client","clientSecret":"\#(secrets["fileSecret"]!)"}"#.write(
            toFile: credentials, atomically: true, encoding: .utf8)
        _ = chmod(credentials, 0o600)
        let tokensFile = inputs.file("tokens.txt")
        try "\(secrets["tokensFile"]!)\n\(secrets["tokensFile"]!)-2\n".write(
            toFile: tokensFile, atomically: true, encoding: .utf8)
        func withUser(_ url: URL, _ password: String) -> String {
            url.absoluteString.replacingOccurrences(of: "http://", with: "http://alice:\(password)@")
        }
        let export = scratch.file("export")
        let runs: [(arguments: [String], environment: [String: String])] = [
            (["mock-export", export, "--conversations", "20", "--files", "2", "--layout", "files"], [:]),
            (
                [
                    "fetch", "--from-export", export, "--api-base=\(withUser(plain.baseURL, secrets["urlEquals"]!))",
                    "--token=\(secrets["tokenEquals"]!)", "--output", scratch.file("a.ndjson"), "--no-progress",
                ], [:]
            ),
            (
                [
                    "fetch", input, "--api-base", withUser(plain.baseURL, secrets["urlSpace"]!), "--token",
                    secrets["tokenSpace"]!, "--output", scratch.file("b.ndjson"), "--no-progress",
                ], [:]
            ),
            (
                ["fetch", input, "--api-base", plain.baseURL.absoluteString, "--output", scratch.file("c.ndjson")],
                ["GENESYSCLOUD_ACCESS_TOKEN": secrets["tokenEnv"]!]
            ),
            (
                [
                    "fetch", input, "--api-base", oauth.baseURL.absoluteString, "--credentials", credentials,
                    "--login-base", withUser(oauth.baseURL, secrets["loginURL"]!), "--output", scratch.file("d.ndjson"),
                ], [:]
            ),
            (
                ["fetch", input, "--api-base", oauth.baseURL.absoluteString, "--output", scratch.file("e.ndjson")],
                ["GENESYSCLOUD_OAUTHCLIENT_ID": "env-client", "GENESYSCLOUD_OAUTHCLIENT_SECRET": secrets["envSecret"]!]
            ),
            (
                // A wrong secret: the login fails, and its error is printed.
                ["fetch", input, "--api-base", oauth.baseURL.absoluteString, "--output", scratch.file("f.ndjson")],
                ["GENESYSCLOUD_OAUTHCLIENT_ID": "env-client", "GENESYSCLOUD_OAUTHCLIENT_SECRET": secrets["refused"]!]
            ),
            (
                // Refused at once, quoting the URL it refuses.
                ["fetch", input, "--api-base", "http://alice:\(secrets["refused"]!)@evil.example"], [:]
            ),
            (["verify", scratch.file("a.ndjson"), "--from-export", export], [:]),
            (["verify", scratch.file("b.ndjson"), "--input", input], [:]),
            (["verify", scratch.file("d.ndjson"), "--input", input], [:]),
            (
                [
                    "enrich", export, "--records", scratch.file("a.ndjson"), "--out", scratch.file("enriched"),
                    "--merged", "--no-progress",
                ], [:]
            ),
            (["verify", scratch.file("enriched")], [:]),
            (
                [
                    "loadtest", withUser(plain.baseURL, secrets["loadURL"]!) + "/api/v2/conversations/{id}", "--header",
                    "Authorization: Bearer \(secrets["header"]!)", "--header=X-Api-Key: \(secrets["headerEquals"]!)",
                    "--rate", "20/s", "--duration", "200ms", "--no-progress", "--summary-export",
                    scratch.file("s.json"), "--timeline", scratch.file("t.csv"), "--chart", scratch.file("c.svg"),
                    "--requests", scratch.file("r.ndjson"),
                ], [:]
            ),
            (
                [
                    "loadtest", plain.baseURL.absoluteString + "/api/v2/conversations/{id}",
                    "--token=\(secrets["loadToken"]!)",
                    "--rate", "20/s", "--duration", "200ms", "--no-progress",
                ], [:]
            ),
            (
                [
                    "loadtest", plain.baseURL.absoluteString + "/api/v2/conversations/{id}", "--tokens", tokensFile,
                    "--rate", "20/s", "--duration", "200ms",
                ], [:]
            ),
        ]
        var streams: [(String, String)] = []
        for run in runs {
            let (status, console) = await convoy(run.arguments, environment: run.environment)
            let name = run.arguments.prefix(2).joined(separator: " ")
            streams.append(("\(name) stdout", console.capturedOutput))
            streams.append(("\(name) stderr (status \(status))", console.capturedError))
        }
        #expect(try ConvoyCLITests.ids(scratch.file("b.ndjson")).count == 20, "the runs ran: \(streams)")
        #expect(try ConvoyCLITests.ids(scratch.file("d.ndjson")).count == 20, "the OAuth run ran: \(streams)")
        #expect(FileManager.default.fileExists(atPath: scratch.file("enriched/report.csv")))
        #expect(FileManager.default.fileExists(atPath: scratch.file("c.svg")))
        var files: [String] = []
        for relative in FileManager.default.subpaths(atPath: scratch.path) ?? [] {
            let path = scratch.file(relative)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
                files.append(path)
                streams.append(
                    (relative, String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)))
            }
        }
        #expect(files.count >= 20, "every output file was read: \(files)")
        for (where_, text) in streams {
            for (kind, value) in secrets {
                #expect(!text.contains(value), "the \(kind) secret reached \(where_)")
            }
        }
        // The manifest still says where the run went, without the user.
        let manifest = try #require(try ManifestLog(path: scratch.file("a.manifest.ndjson")).last()?.manifest)
        #expect(manifest.apiBase == plain.baseURL.absoluteString)
        #expect(manifest.command.contains("--api-base=\(plain.baseURL.absoluteString)"))
        #expect(manifest.command.contains("--token=<redacted>"))
    }

    @Test func theRecordedCommandLineKeepsNoSecretInAnyForm() {
        #expect(
            Arguments.redacting([
                "--api-base=http://a:b@h:1/p", "--header", "Authorization: Bearer x", "--header=K: v",
                "http://u:p@h/x", "--password", "p", "--output", "o",
            ]) == [
                "--api-base=http://h:1/p", "--header", "Authorization: <redacted>", "--header=K: <redacted>",
                "http://h/x", "--password", "<redacted>", "--output", "o",
            ])
    }

    // MARK: no write through a link

    /// What a link planted in place of a file points at: another file of the user's.
    static let precious = "a line that must stay\nits torn tail that must stay"

    @Test(arguments: ["o.ndjson", "o.errors.ndjson", "o.manifest.ndjson"])
    func aLinkInPlaceOfAFileOfTheRunIsRefused(_ name: String) async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 500))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 10), in: scratch)
        let victim = scratch.file("victim.txt")
        try Self.precious.write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(symlink(victim, scratch.file(name)) == 0)
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson")])
        #expect(status == 1)
        #expect(
            console.capturedError.hasPrefix(
                "convoy: error: refusing to write \(scratch.file(name)): it is a symbolic link, and Convoy never "
                    + "writes through one"), "\(console.capturedError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == Self.precious, "the link's target untouched")
        #expect(server.counters().requests == 0, "refused before the run fetched what it could not write")
    }

    @Test func enrichNeverWritesThroughALinkAtATemporaryName() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let export = scratch.file("export")
        _ = await convoy(["mock-export", export, "--conversations", "10", "--files", "1", "--layout", "files"])
        let (fetched, fetch) = await convoy(
            [
                "fetch", "--from-export", export, "--api-base", server.baseURL.absoluteString, "--output",
                scratch.file("o.ndjson"), "--no-progress",
            ])
        #expect(fetched == 0, "\(fetch.capturedError)")
        let out = scratch.file("enriched")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let victim = scratch.file("victim.txt")
        try Self.precious.write(toFile: victim, atomically: true, encoding: .utf8)
        // The names the temp files had: <path>.tmp-<pid>.
        for name in [Enricher.reportName, Enricher.tableName] {
            #expect(symlink(victim, (out as NSString).appendingPathComponent("\(name).tmp-\(getpid())")) == 0)
        }
        let (status, console) = await convoy(
            ["enrich", export, "--records", scratch.file("o.ndjson"), "--out", out, "--no-progress"])
        #expect(status == 0, "\(console.capturedError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == Self.precious, "the link's target untouched")
        let (verified, verify) = await convoy(["verify", out])
        #expect(verified == 0, "\(verify.capturedOutput)")
        let csv = try String(
            contentsOfFile: (out as NSString).appendingPathComponent(Enricher.tableName), encoding: .utf8)
        #expect(csv.hasPrefix("file,"), "the report itself was written")
    }

    @Test func loadtestExportsAreNotWrittenThroughALink() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let victim = scratch.file("victim.txt")
        try Self.precious.write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(symlink(victim, scratch.file("s.json")) == 0)
        let (status, console) = await convoy([
            "loadtest", server.baseURL.absoluteString + "/api/v2/conversations/{id}", "--rate", "20/s", "--duration",
            "100ms", "--no-progress", "--summary-export", scratch.file("s.json"),
        ])
        #expect(status == 0, "\(console.capturedError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == Self.precious, "the link's target untouched")
        let summary = try String(contentsOfFile: scratch.file("s.json"), encoding: .utf8)
        #expect(summary.contains("\"summary\""), "the link was replaced by the export")
    }

    @Test func filesOthersCouldReadAreTightenedTo0600() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 500))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 10), in: scratch)
        for name in ["o.ndjson", "o.errors.ndjson", "o.manifest.ndjson"] {
            #expect(FileManager.default.createFile(atPath: scratch.file(name), contents: nil))
            #expect(chmod(scratch.file(name), 0o644) == 0)
        }
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson")])
        #expect(status == 2, "\(console.capturedError)")
        for name in ["o.ndjson", "o.errors.ndjson", "o.manifest.ndjson"] {
            #expect(
                console.capturedError.contains(
                    "convoy: \(scratch.file(name)) could be read by other users (mode 644): made 0600\n"))
            var status = stat()
            #expect(stat(scratch.file(name), &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600, "\(name) is \(String(status.st_mode & 0o777, radix: 8))")
        }
    }

    // MARK: paths that cannot escape

    /// An export, its records fetched from the mock: (export, records).
    private func fetchedExport(
        in scratch: borrowing TemporaryDirectory, server: MockAPIServer
    ) async throws
        -> (String, String)
    {
        let export = scratch.file("export")
        _ = await convoy(["mock-export", export, "--conversations", "10", "--files", "1", "--layout", "files"])
        let (status, console) = await convoy([
            "fetch", "--from-export", export, "--api-base", server.baseURL.absoluteString, "--output",
            scratch.file("o.ndjson"), "--no-progress",
        ])
        #expect(status == 0, "\(console.capturedError)")
        return (export, scratch.file("o.ndjson"))
    }

    @Test func aFileLinkOutOfTheExportIsNotFollowed() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let (export, records) = try await fetchedExport(in: scratch, server: server)
        // A folder whose name is the export's with its last letter changed and two dots added: cutting
        // the export's length off the link's resolved target leaves '../enrich.manifest.ndjson'.
        let beside = String(export.dropLast()) + "X.."
        try FileManager.default.createDirectory(atPath: beside, withIntermediateDirectories: true)
        let first = try #require(try ExportScanner(path: export).files().first)
        try FileManager.default.copyItem(
            atPath: first, toPath: (beside as NSString).appendingPathComponent("enrich.manifest.ndjson"))
        #expect(
            symlink((beside as NSString).appendingPathComponent("enrich.manifest.ndjson"), export + "/zz.json") == 0)
        let out = scratch.file("enriched")
        let (status, console) = await convoy([
            "enrich", export, "--records", records, "--out", out, "--merged", "--no-progress",
        ])
        #expect(status == 1, "\(console.capturedOutput)")
        #expect(
            console.capturedError.hasPrefix(
                "convoy: error: \(export)/zz.json is a link to \(beside)/enrich.manifest.ndjson, outside the export: "
                    + "Convoy does not follow links out of an export"), "\(console.capturedError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("enrich.manifest.ndjson.recovered.ndjson")))
        #expect(
            !FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent(Enricher.manifestName)))
        // A link that stays inside the export is read under its own name.
        #expect(unlink(export + "/zz.json") == 0)
        #expect(symlink(first, export + "/zz.json") == 0)
        let (inside, insideConsole) = await convoy([
            "enrich", export, "--records", records, "--out", out, "--merged", "--no-progress",
        ])
        #expect(inside == 0, "\(insideConsole.capturedError)")
        #expect(FileManager.default.fileExists(atPath: out + "/zz.json.recovered.ndjson"))
        #expect(FileManager.default.fileExists(atPath: out + "/merged/zz.json"))
    }

    @Test func enrichWritesNothingOutsideItsOutputFolder() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let (export, records) = try await fetchedExport(in: scratch, server: server)
        let out = scratch.file("enriched")
        let elsewhere = scratch.file("elsewhere")
        for folder in [out, elsewhere] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        #expect(symlink(elsewhere, out + "/merged") == 0)
        let (status, console) = await convoy([
            "enrich", export, "--records", records, "--out", out, "--merged", "--no-progress",
        ])
        #expect(status == 1)
        #expect(
            console.capturedError.contains("/merged is a link, which could lead outside the output folder"),
            "\(console.capturedError)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty, "nothing written through the link")
    }

    // MARK: verify reads what the manifest vouches for

    /// Runs the `convoy` executable in `folder` (the working directory matters here, so not
    /// in-process) and returns its status and standard output.
    private func runConvoy(in folder: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ["PATH": "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func verifyFindsTheErrorsFileFromTheManifestNotTheWorkingDirectory() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 500))
        defer { server.shutdown() }
        let (run, elsewhere) = (scratch.file("run"), scratch.file("elsewhere"))
        for folder in [run, elsewhere] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try MockConversationStore.sampleIDs(count: 20).joined(separator: "\n").write(
            toFile: run + "/ids.txt", atomically: true, encoding: .utf8)
        let fetched = try runConvoy(
            in: run, ["fetch", "ids.txt", "--api-base", server.baseURL.absoluteString, "--output", "o.ndjson"])
        #expect(fetched.status == 2, "some ids are unknown to the mock")
        // A copy of the errors file where verify used to look, then the real one altered.
        try FileManager.default.copyItem(atPath: run + "/o.errors.ndjson", toPath: elsewhere + "/o.errors.ndjson")
        let (intact, report) = try runConvoy(in: elsewhere, ["verify", "../run/o.ndjson"])
        #expect(intact == 0, "\(report)")
        #expect(report.hasPrefix("convoy verify: \(run)/o.ndjson against \(run)/o.manifest.ndjson\n"), "\(report)")
        #expect(report.contains("  ok    errors \(run)/o.errors.ndjson: "), "\(report)")
        #expect(report.contains("  ok    output \(run)/o.ndjson: "), "\(report)")
        let handle = try #require(FileHandle(forWritingAtPath: run + "/o.errors.ndjson"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"id":"forged","status":404}"#.utf8 + [10]))
        try handle.close()
        let (altered, failure) = try runConvoy(in: elsewhere, ["verify", "../run/o.ndjson"])
        #expect(altered == 1, "\(failure)")
        #expect(failure.contains("  FAIL  errors: SHA-256 is "), "\(failure)")
        #expect(failure.contains("(\(run)/o.errors.ndjson)"), "\(failure)")
    }

    @Test func verifyFindsTheExportFromTheEnrichManifestNotTheWorkingDirectory() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let (run, elsewhere) = (scratch.file("run"), scratch.file("elsewhere"))
        for folder in [run, elsewhere] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        #expect(
            try runConvoy(
                in: run, ["mock-export", "export", "--conversations", "10", "--files", "1", "--layout", "files"]
            ).status == 0)
        let fetched = try runConvoy(
            in: run,
            ["fetch", "--from-export", "export", "--api-base", server.baseURL.absoluteString, "--output", "o.ndjson"])
        #expect(fetched.status == 0)
        #expect(try runConvoy(in: run, ["enrich", "export", "--records", "o.ndjson", "--out", "enriched"]).status == 0)
        // A copy of the export where verify used to look, then the real one altered.
        try FileManager.default.copyItem(atPath: run + "/export", toPath: elsewhere + "/export")
        let (intact, report) = try runConvoy(in: elsewhere, ["verify", "../run/enriched"])
        #expect(intact == 0, "\(report)")
        #expect(report.contains("  ok    export \(run)/export: "), "\(report)")
        let file = try #require(try ExportScanner(path: run + "/export").entries().first)
        let handle = try #require(FileHandle(forWritingAtPath: file.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(" ".utf8))
        try handle.close()
        let (altered, failure) = try runConvoy(in: elsewhere, ["verify", "../run/enriched"])
        #expect(altered == 1, "\(failure)")
        #expect(failure.contains("  FAIL  export: \(file.relative) changed"), "\(failure)")
    }

    // MARK: terminal hygiene

    @Test func escapeSequencesFromTheServerAreShownNotObeyed() async throws {
        let body = #"{"error":"\u001b]0;owned\u0007\u001b[2Jinvalid_client"}"#
        let server = try FixedAnswerServer(
            response: "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: "
                + "\(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        defer { server.shutdown() }
        let scratch = try TemporaryDirectory()
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 1), in: scratch)
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson")],
            environment: [
                "GENESYSCLOUD_OAUTHCLIENT_ID": "client", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "secret-\(UUID())",
            ])
        #expect(status == 1)
        #expect(
            console.capturedError.hasPrefix(
                #"convoy: error: the login server refused the client credentials (HTTP 401: \u{1B}]0;owned\u{7}\u{1B}[2Jinvalid_client)"#
            ), "\(console.capturedError)")
        #expect(!console.capturedError.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func aFileNameCannotDriveTheTerminal() async throws {
        let name = "ids\u{1B}]0;owned\u{7}.txt"
        let (status, console) = await convoy(
            ["fetch", name, "--api-base", "http://127.0.0.1:1"],
            environment: ["GENESYSCLOUD_ACCESS_TOKEN": "t-\(UUID())"])
        #expect(status == 1)
        #expect(
            console.capturedError
                == "convoy: error: cannot open ids\\u{1B}]0;owned\\u{7}.txt: No such file or directory\n")
    }

    @Test func reportCellsThatLookLikeFormulasAreText() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let (export, records) = try await fetchedExport(in: scratch, server: server)
        let first = try #require(try ExportScanner(path: export).files().first)
        let planted = scratch.file(#"=HYPERLINK("evil.example","x").json"#)
        try Data(contentsOf: URL(fileURLWithPath: first)).write(to: URL(fileURLWithPath: planted))
        let out = scratch.file("enriched")
        let (status, console) = await convoy(["enrich", planted, "--records", records, "--out", out, "--no-progress"])
        #expect(status == 0, "\(console.capturedError)")
        let csv = try String(contentsOfFile: out + "/" + Enricher.tableName, encoding: .utf8)
        let rows = csv.split(separator: "\r\n").dropFirst()
        #expect(!rows.isEmpty)
        for row in rows where !row.hasPrefix("(all files)") {
            #expect(row.hasPrefix(#""'=HYPERLINK(""evil.example"",""x"").json","#), "\(row)")
        }
    }

    // MARK: limits on input

    @Test func anOverlongInputLineIsRecordedByItsFirstBytesAndItsNumber() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 2)
        let long = IDReader.maxLineLength + 1
        var text = Data("\(ids[0])\n".utf8)
        text.append(Data(repeating: UInt8(ascii: "x"), count: long))
        text.append(Data("\n\(ids[1])\n".utf8))
        let input = scratch.file("ids.txt")
        try text.write(to: URL(fileURLWithPath: input))
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson")])
        #expect(status == 2, "\(console.capturedError)")
        #expect(Set(try ConvoyCLITests.ids(scratch.file("o.ndjson"))) == Set(ids), "the lines around it are fetched")
        let failures = try records(scratch.file("o.errors.ndjson"))
        #expect(failures.count == 1)
        #expect(failures.first?["id"] as? String == String(repeating: "x", count: IDReader.excerptLength))
        #expect(failures.first?["line"] as? Int == 2)
        #expect(
            failures.first?["reason"] as? String
                == "the line is \(long) bytes long, over the limit of 16 MiB: only its first 64 bytes are kept")
        let size = try FileManager.default.attributesOfItem(atPath: scratch.file("o.errors.ndjson"))[.size] as? Int
        #expect((size ?? .max) < 1000, "the line is not copied whole into the errors file")
        let (verified, report) = await convoy(["verify", scratch.file("o.ndjson"), "--input", input])
        #expect(verified == 0, "verify reads the input the same way: \(report.capturedOutput)")
    }

    // MARK: warnings

    @Test func aTokenOnTheCommandLineAndALooseCredentialsFileAreWarnedOf() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(oauth: MockOAuth(clientId: "client", clientSecret: "secret-\(UUID())")))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 2), in: scratch)
        let tokenWarning =
            "convoy: warning: --token puts the token in the process list, where every user of this machine can "
            + "read it; prefer GENESYSCLOUD_ACCESS_TOKEN (or --credentials FILE)\n"
        let (_, flag) = await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--token=t0ken-\(UUID())", "--output",
                scratch.file("a.ndjson"),
            ])
        #expect(flag.capturedError.hasPrefix(tokenWarning), "\(flag.capturedError)")
        let (_, variable) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("b.ndjson")],
            environment: ["GENESYSCLOUD_ACCESS_TOKEN": "t0ken-\(UUID())"])
        #expect(!variable.capturedError.contains("warning"), "\(variable.capturedError)")

        let credentials = scratch.file("client.json")
        try #"{"clientId":"client","clientSecret":"wrong-\#(UUID())"}"#.write(
            toFile: credentials, atomically: true, encoding: .utf8)
        #expect(chmod(credentials, 0o644) == 0)
        let (_, loose) = await convoy(
            [
                "loadtest", server.baseURL.absoluteString + "/x", "--credentials", credentials, "--rate", "1/s",
                "--duration", "1s",
            ])
        #expect(
            loose.capturedError.hasPrefix(
                "convoy: warning: the credentials file \(credentials) can be read or written by other users (mode "
                    + "644); make it private: chmod 600 \(credentials)\n"), "\(loose.capturedError)")
        #expect(chmod(credentials, 0o600) == 0)
        let (_, tight) = await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--credentials", credentials, "--output",
                scratch.file("c.ndjson"),
            ])
        #expect(!tight.capturedError.contains("warning"), "\(tight.capturedError)")
    }

    // MARK: planted evidence

    @Test func aRecordPlantedBeforeTheFirstRunIsNamedByVerify() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 5)
        let input = try writeIDs(ids, in: scratch)
        let output = scratch.file("o.ndjson")
        try (#"{"id":"\#(ids[2])","conversation":{"forged":true}}"# + "\n").write(
            toFile: output, atomically: true, encoding: .utf8)
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress"])
        #expect(status == 0, "\(console.capturedError)")
        #expect(server.counters().requests == 4, "the forged id was taken as fetched")
        let (verified, report) = await convoy(["verify", output, "--input", input])
        #expect(verified == 1, "\(report.capturedOutput)")
        #expect(
            report.capturedOutput.contains(
                "  FAIL  run 1 began with 1 record in the output that no run vouches for (planted, or left by a run "
                    + "killed before it wrote its line): \(ids[2])\n"), "\(report.capturedOutput)")
        #expect(report.capturedOutput.hasSuffix("NOT verified: 1 discrepancy\n"))
    }

    @Test func aFailurePlantedBetweenRunsIsNamedByVerify() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 6)
        let output = scratch.file("o.ndjson")
        let first = try writeIDs(Array(ids.prefix(3)), in: scratch)
        let (status, console) = await convoy(
            ["fetch", first, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress"])
        #expect(status == 0, "\(console.capturedError)")
        // A permanent failure no run recorded: the resume would never fetch this id.
        try (#"{"id":"\#(ids[4])","status":404,"reason":"not found","attempts":1,"retryable":false}"# + "\n").write(
            toFile: scratch.file("o.errors.ndjson"), atomically: true, encoding: .utf8)
        let all = try writeIDs(ids, in: scratch)
        let (again, resumed) = await convoy(
            ["fetch", all, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress"])
        #expect(again == 0, "\(resumed.capturedError)")
        #expect(server.counters().requests == 5, "the planted failure kept its id from being fetched")
        let (verified, report) = await convoy(["verify", output, "--input", all])
        #expect(verified == 1, "\(report.capturedOutput)")
        #expect(
            report.capturedOutput.contains(
                "  FAIL  run 2 began with 1 record in the errors file that no run vouches for (planted, or left by a "
                    + "run killed before it wrote its line): \(ids[4])\n"), "\(report.capturedOutput)")
    }

    @Test func aKilledRunVouchesForWhatItWroteUpToItsLastCheckpoint() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 100)
        let input = try writeIDs(ids, in: scratch)
        let (output, manifest) = (scratch.file("o.ndjson"), scratch.file("o.manifest.ndjson"))
        server.holdAnswers(after: 30)  // the run cannot finish before its kill
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = [
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress",
            "--checkpoint-interval", "100ms",
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // A checkpoint that covers every record the run will write before the answers stop.
        try await waitUntil {
            let covered = try ManifestLog(path: manifest).lines().map(RunManifest.decode).last?.output.lines
            return lineCount(output) == 30 && covered == 30
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let checkpoints = try ManifestLog(path: manifest).lines().map(RunManifest.decode)
        #expect(!checkpoints.isEmpty && checkpoints.allSatisfy { $0.outcome == .running })
        server.holdAnswers(after: nil)
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress"])
        #expect(status == 0, "\(console.capturedError)")
        let lines = try ManifestLog(path: manifest).lines().map(RunManifest.decode)
        #expect(lines.last?.found.uncoveredOutputRecords == 0, "the checkpoint covers the killed run's records")
        let (verified, report) = await convoy(["verify", output, "--input", input])
        #expect(verified == 0, "\(report.capturedOutput)")
        #expect(
            report.capturedOutput.contains(
                "manifest \(manifest): 2 runs (\(checkpoints.count) checkpoint\(checkpoints.count == 1 ? "" : "s")), "
                    + "every line sealed and chained"), "\(report.capturedOutput)")
    }
}
