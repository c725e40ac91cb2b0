import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation

// The benchmark harness: an orchestrator that, for each scenario and strategy, starts the mock API
// in one child process and the client in another, then reports. See BenchmarkOptions.help.

// Child: one `convoy` command, measured by the orchestrator: `--convoy-child PEAK_FILE ARGS…`.
if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "--convoy-child" {
    let status = await ConvoyCommandLine.main(Array(CommandLine.arguments.dropFirst(3)))
    try MeasuredProcess.recordPeak(to: CommandLine.arguments[2])
    exit(status)
}
if CommandLine.arguments.count == 5, CommandLine.arguments[1] == "--scale-generate" {
    let arguments = CommandLine.arguments
    try ScaleBenchmark.generate(idsPath: arguments[2], outputPath: arguments[3], count: Int(arguments[4])!)
    exit(0)
}
if CommandLine.arguments.count == 5, CommandLine.arguments[1] == "--enrich-generate" {
    let arguments = CommandLine.arguments
    try EnrichBenchmark.generate(folder: arguments[2], records: Int(arguments[3])!, files: Int(arguments[4])!)
    exit(0)
}

let options: BenchmarkOptions
do {
    options = try BenchmarkOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("ConvoyBenchmarks: \(error)\n".utf8))
    exit(64)
}

func scenario(named name: String?) -> Scenario {
    guard let found = options.scenarios.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("ConvoyBenchmarks: unknown scenario \(name ?? "")\n".utf8))
        exit(64)
    }
    return found
}

// Child: the mock server.
if options.serve {
    try MockHost.serve(scenario(named: options.scenario))
    exit(0)
}

// Child: one client run; prints its result as JSON.
if let strategy = options.client, let base = options.base {
    let ids = MockConversationStore.sampleIDs(count: scenario(named: options.scenario).ids, seed: 3).filter {
        options.shard?.contains(ConversationID($0)!) ?? true
    }
    let profile = scenario(named: options.scenario)
    let result = try await ClientRun(
        strategy: strategy, base: base, ids: ids, deadline: .seconds(options.deadline), oauth: profile.server.oauth,
        told: profile.allowedRate.isFinite
            ? (Int((profile.allowedRate * options.window).rounded()), options.window) : nil
    ).run()
    let data = try JSONEncoder().encode(result)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
    exit(0)
}

// Orchestrator.
#if DEBUG
    if !options.allowDebug {
        FileHandle.standardError.write(
            Data(
                """
                ConvoyBenchmarks: this is a debug build; its figures would measure the optimizer's absence.
                Run `swift run -c release ConvoyBenchmarks`, or pass --allow-debug.

                """.utf8))
        exit(64)
    }
#endif

let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
try FileManager.default.createDirectory(atPath: options.out, withIntermediateDirectories: true)
if options.loadtest {
    try await LoadBenchmark(executable: executable, scaleArguments: options.scaleArguments).run()
    exit(0)
}
if let sizes = options.scaleSizes {
    try await ScaleBenchmark(
        sizes: sizes, directory: options.out, executable: executable, killTrials: options.killTrials,
        freshGrowth: options.freshGrowth
    ).run()
    exit(0)
}
if let records = options.enrichRecords {
    try EnrichBenchmark(records: records, files: options.enrichFiles, directory: options.out, executable: executable)
        .run()
    exit(0)
}
if let ids = options.analyticsIDs {
    try AnalyticsBenchmark(ids: ids, limit: options.limit, directory: options.out, executable: executable).run()
    exit(0)
}
if let megabytes = options.sha256Megabytes {
    _ = try HashBenchmark(megabytes: megabytes, directory: options.out).run()
    exit(0)
}
var rows: [ResultRow] = []
let selected = options.scenarios.filter { options.filter?.contains($0.name) ?? (options.long || !$0.longOnly) }
print(
    "ConvoyBenchmarks: \(ProcessInfo.processInfo.activeProcessorCount) cores; ids \(options.ids), "
        + "limit \(options.limit) per \(options.window) s, latency \(options.latencyMilliseconds) ms\n")

for scenario in selected {
    var strategies =
        options.strategies.map { wanted in scenario.strategies.filter(wanted.contains) } ?? scenario.strategies
    if options.quick && options.strategies == nil {
        strategies = strategies.filter { [.convoy, .sdkStyle, .bare].contains($0) }
    }
    print("\(scenario.name): \(scenario.summary); floor \(String(format: "%.1f", scenario.floorSeconds)) s")
    var timelines: [(Strategy, [Timeline.Bucket])] = []
    for strategy in strategies {
        let host = try MockHost(
            executable: executable, arguments: ["--scenario", scenario.name] + options.scaleArguments)
        let deadline = scenario.allowedRate.isFinite ? scenario.floorSeconds * 2 + 5 : 120
        // One client process, or one per shard when several share the budget.
        let clients = try (1...scenario.processes).map { index in
            let client = Process()
            client.executableURL = executable
            client.arguments =
                [
                    "--client", strategy.rawValue, "--scenario", scenario.name, "--base", host.baseURL.absoluteString,
                    "--deadline", "\(deadline)",
                ] + options.scaleArguments
                + (scenario.processes > 1 ? ["--shard", "\(index)/\(scenario.processes)"] : [])
            let pipe = Pipe()
            client.standardOutput = pipe
            try client.run()
            return (client, pipe)
        }
        // Detached: the orchestrator's own thread is blocked reading the clients' output below.
        let change = Task.detached {
            guard scenario.limitChange != nil else { return }
            try await Task.sleep(for: .seconds(Double(scenario.ids) / scenario.allowedRate / 2))
            host.changeLimit()
        }
        var results: [ClientResult] = []
        for (client, pipe) in clients {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            client.waitUntilExit()
            guard client.terminationStatus == 0, let result = try? JSONDecoder().decode(ClientResult.self, from: data)
            else {
                print("  \(strategy.rawValue): the client failed (status \(client.terminationStatus))")
                exit(1)
            }
            results.append(result)
        }
        change.cancel()
        _ = await change.result
        let server = host.counters()
        host.stop()
        let result = ClientResult.combining(results)
        if results.count > 1 {
            let fair = scenario.allowedRate / Double(results.count)
            let shares = results.map { Double($0.fetched + $0.notFound) / max($0.wallSeconds, 1e-3) / fair }
            print(
                "  \(results.count) processes, each's rate ÷ its fair share: "
                    + shares.map { String(format: "%.3f", $0) }.joined(separator: ", "))
        }
        if scenario.server.oauth != nil {
            print(
                "  \(server.unauthorized) 401s (\(String(format: "%.2f", 100 * Double(server.unauthorized) / Double(max(1, result.requests)))) %), "
                    + "\(server.tokenRequests) token requests over \(String(format: "%.1f", result.wallSeconds)) s")
        }
        let row = ResultRow(scenario: scenario, result: result, server: (server.requests, server.throttled))
        rows.append(row)
        timelines.append((strategy, result.timeline))
        try Timeline.csv(result.timeline).write(
            toFile: "\(options.out)/timeline-\(scenario.name)-\(strategy.rawValue).csv", atomically: true,
            encoding: .utf8)
        print("  " + Report.cells(row).dropFirst().joined(separator: "  "))
    }
    try SVGChart.render(scenario: scenario, rows: timelines).write(
        toFile: "\(options.out)/\(scenario.name).svg", atomically: true, encoding: .utf8)
}

print("\n" + Report.table(rows))
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
try encoder.encode(rows).write(to: URL(fileURLWithPath: "\(options.out)/results.json"))
print("\nwrote \(options.out)/results.json, timeline-*.csv and one SVG per scenario")

let broken = rows.filter { $0.strategy == .convoy && ($0.result.lost > 0 || $0.result.duplicated > 0) }
if !broken.isEmpty {
    print("FAILED: Convoy lost or duplicated ids in: \(broken.map(\.scenario).joined(separator: ", "))")
    exit(1)
}
if options.smoke {
    let convoyRuns = rows.filter { $0.strategy == .convoy }
    var failed = 0
    for row in convoyRuns {
        let baseline = rows.first { $0.scenario == row.scenario && $0.strategy == .sdkStyle }
        let violations = PaceBounds.forScenario(row.scenario)?.violations(row, baseline: baseline) ?? []
        for violation in violations { print("FAILED: \(violation)") }
        if !violations.isEmpty { failed += 1 }
    }
    print("smoke: \(convoyRuns.count - failed) passed, \(failed) failed")
    if failed > 0 { exit(1) }
}
