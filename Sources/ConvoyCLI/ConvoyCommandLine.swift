import Convoy
import Foundation

/// The `convoy` command line, as a library so tests can run it in-process.
public enum ConvoyCommandLine {
    static let help = """
        convoy: pull the full metadata of every conversation out of a rate-limited contact-center API.

        USAGE: convoy <command> [options]

        COMMANDS:
          fetch          ids in, NDJSON out, at the server's rate limit (resumable)
          loadtest       drive load at any rate-limited HTTP API and say what its limiter is
          enrich         put the fetched records beside the export they came from; report the fields recovered
          verify         check an output (or an enrich folder) against its manifest: nothing added, dropped or altered
          report         one HTML file for counsel: run history, verify result, hashes, fields recovered, ids missing
          demo           the whole stack against the embedded mock API, offline, in under a minute
          mock-server    run the mock Genesys API on 127.0.0.1 (load-test a client's rate limiting)
          mock-export    write a stripped export of the mock's conversations (to try fetch --from-export and enrich)
          completion     print a shell completion script: convoy completion bash|zsh|fish
          help           show this help, or 'convoy help <command>'

        Run 'convoy <command> --help' for a command's options. Start with:  convoy demo
        """

    /// Each command and its help, whose `--options` are the options it takes.
    static let commands: [(name: String, help: String)] = [
        ("fetch", FetchCommand.help), ("loadtest", LoadTestCommand.help), ("enrich", EnrichCommand.help),
        ("verify", VerifyCommand.help), ("report", ReportCommand.help), ("demo", DemoCommand.help),
        ("mock-server", MockServerCommand.help),
        ("mock-export", MockExportCommand.help), ("completion", CompletionCommand.help),
    ]

    /// The help of `command`, nil for an unknown one.
    static func help(of command: String) -> String? { commands.first { $0.name == command }?.help }

    /// Runs `convoy` with `arguments` (without the program name) and returns the exit status:
    /// 0 success, 1 failure (for `verify`: a discrepancy), 2 some ids failed, 64 usage error,
    /// 99 a `loadtest` threshold failed, 130 interrupted.
    public static func main(
        _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        console: Console = .standard()
    ) async -> Int32 {
        MemoryTuning.returnLargeBuffersToTheSystem()
        guard let command = arguments.first else {
            console.error(help)
            return 64
        }
        let rest = Array(arguments.dropFirst())
        // Before anything can print: an error may quote an argument, a server may echo a token.
        console.hide(Redaction.secrets(arguments: rest, environment: environment))
        let wantsHelp = rest.contains("--help") || rest.contains("-h")
        do {
            if let help = help(of: command), !wantsHelp {
                // An unknown option is the first thing said, before a region or a file is checked.
                try Arguments(rest).rejectUnknownOptions(known: Arguments.options(in: help))
            }
            switch command {
            case "fetch":
                if wantsHelp { return show(FetchCommand.help, console) }
                warn(CredentialWarnings.warnings(arguments: rest, environment: environment), console)
                let fetch = try FetchCommand(arguments: rest, environment: environment)
                console.hide(fetch.authentication.secrets)
                return try await fetch.run(console: console)
            case "loadtest":
                if wantsHelp { return show(LoadTestCommand.help, console) }
                warn(CredentialWarnings.warnings(arguments: rest, environment: environment), console)
                let loadTest = try LoadTestCommand(arguments: rest, environment: environment)
                console.hide(loadTest.authentication.secrets + loadTest.tokens)
                return try await loadTest.run(console: console)
            case "enrich":
                if wantsHelp { return show(EnrichCommand.help, console) }
                return try await EnrichCommand(arguments: rest).run(console: console)
            case "verify":
                if wantsHelp { return show(VerifyCommand.help, console) }
                return try await VerifyCommand(arguments: rest).run(console: console)
            case "report":
                if wantsHelp { return show(ReportCommand.help, console) }
                return try await ReportCommand(arguments: rest).run(console: console)
            case "demo":
                if wantsHelp { return show(DemoCommand.help, console) }
                return try await DemoCommand(arguments: rest).run(console: console)
            case "mock-server":
                if wantsHelp { return show(MockServerCommand.help, console) }
                return try await MockServerCommand(arguments: rest).run(console: console)
            case "mock-export":
                if wantsHelp { return show(MockExportCommand.help, console) }
                return try await MockExportCommand(arguments: rest).run(console: console)
            case "completion":
                if wantsHelp { return show(CompletionCommand.help, console) }
                return try CompletionCommand(arguments: rest).run(console: console)
            case "help", "--help", "-h":
                guard let topic = rest.first else { return show(help, console) }
                guard let text = help(of: topic) else {
                    throw ConvoyError.usage("no help for '\(topic)': not a command" + commandHint(topic))
                }
                return show(text, console)
            case "--version", "version":
                console.print("convoy \(FetchRunner.version)")
                return 0
            default:
                throw ConvoyError.usage("unknown command '\(command)'" + commandHint(command))
            }
        } catch let error as ConvoyError {
            console.error("convoy: error: \(error.message)")
            if error.isUsage {
                console.error(
                    "Run 'convoy \(help(of: command) != nil ? command + " " : "")--help' for usage."
                )
                return 64
            }
            return 1
        } catch {
            console.error("convoy: error: \(ErrorText.describe(error))")
            return 1
        }
    }

    /// `" (did you mean 'fetch'?)"` for a misspelt command.
    private static func commandHint(_ word: String) -> String {
        Suggestion.hint(for: word, in: commands.map(\.name) + ["help", "version"])
    }

    private static func warn(_ warnings: [String], _ console: Console) {
        for warning in warnings { console.error(warning) }
    }

    private static func show(_ text: String, _ console: Console) -> Int32 {
        console.print(text)
        return 0
    }
}
