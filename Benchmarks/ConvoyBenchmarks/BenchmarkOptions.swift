import Convoy
import Foundation

/// Command-line options of the benchmark harness.
struct BenchmarkOptions {
    static let help = """
        USAGE: ConvoyBenchmarks [--quick] [--smoke] [--filter a,b] [--strategies a,b] [options]

        Replays rate-limit profiles against the mock API (in a child process) and runs every fetch
        strategy side by side on each, each in its own process so CPU and peak RSS are its own.
        Prints a table; writes results.json, a CSV timeline per scenario and strategy, and an SVG
        chart per scenario to --out.

          --quick              small runs (about a minute), Convoy and the SDK-style baseline
          --smoke              exit 1 if Convoy lost or duplicated an id, or its pace left loose
                               bounds (too slow: low goodput; too fast: many 429s); see PaceBounds
          --filter NAMES       scenarios: genesys, bucket, 429-only, leaky, shared-token-2,
                               shared-token-4, short-token, shared, halving, lognormal, longtail, faults,
                               unlimited, and 429-only-long (default: all but 429-only-long)
          --long               every profile runs for at least 90 s (ids = 90 s at the limit), and
                               429-only-long (55 windows) is included
          --strategies NAMES   convoy, sdk-style, forum-fix, naive, bare (default: per scenario)
          --ids N              ids per run (default 1000; 300 with --quick)
          --limit N            requests per window (default 300, Genesys's budget)
          --window SECONDS     the window, scaled down from Genesys's 60 s (default 3; 1 with --quick)
          --time-scale X       play Genesys's 60 s window X times faster: the same as --window 60/X
          --latency-ms MS      server latency (default 100; 20 with --quick)
          --out DIR            where files go (default benchmark-results)
          --allow-debug        run from a debug build anyway (figures will be meaningless)
          --loadtest           instead: convoy loadtest's open model holding 2,000/s for 30 s, and its
                               ceiling beside hey's (apt-get install hey) on the same mock
          --sha256 MIB         instead: Convoy's SHA-256 against sha256sum on one file of MIB MiB
                               (300 for the custody figure); medians of 5 alternating rounds
          --enrich N           instead: convoy enrich over N records and an export of N + 1 % ids
                               (1000000 for the issue's figure): wall time and peak RSS, beside wc -l
          --enrich-files M     export files for --enrich (default 10000)
          --analytics N        instead: convoy fetch --include conversation,analytics over N mock ids
                               (5000 for the issue's figure), analytics batched against per id:
                               requests per conversation, 429s, wall, byte-identical analytics
          --scale [N,N…]       instead: millions of ids on one machine (default 1000000,10000000): a
                               resumed run with nothing left to fetch (wall, peak RSS) beside
                               sha256sum and wc -l, IDReader's ids/s, the peak RSS a fresh run adds
                               per id, and --kill-trials jobs killed with SIGKILL and resumed
          --kill-trials N      kill -9 trials for --scale (default 20)
          --no-fresh           --scale without the fresh-run growth (its runs take about 8 minutes)
        """

    var quick = false
    var smoke = false
    var long = false
    var filter: Set<String>?
    var strategies: [Strategy]?
    var ids = 1000
    var limit = 300
    var window = 3.0
    var latencyMilliseconds = 100.0
    var out = "benchmark-results"
    var allowDebug = false
    var sha256Megabytes: Int?
    var enrichRecords: Int?
    var analyticsIDs: Int?
    var enrichFiles = 10_000
    var scaleSizes: [Int]?
    var killTrials = 20
    var freshGrowth = true
    var loadtest = false
    // Child roles.
    var serve = false
    var client: Strategy?
    var scenario: String?
    var base: URL?
    var deadline = 60.0
    var shard: Shard?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ name: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchmarkError("\(name) needs a value") }
            return next
        }
        var explicit: Set<String> = []
        while let argument = rest.popFirst() {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { rest.insert(parts[1], at: rest.startIndex) }
            let name = parts[0]
            explicit.insert(name)
            switch name {
            case "--quick": quick = true
            case "--smoke": smoke = true
            case "--long": long = true
            case "--filter": filter = Set(try value(name).split(separator: ",").map(String.init))
            case "--strategies":
                strategies = try value(name).split(separator: ",").map {
                    guard let strategy = Strategy(rawValue: String($0)) else {
                        throw BenchmarkError("unknown strategy \($0)")
                    }
                    return strategy
                }
            case "--ids": ids = Int(try value(name)) ?? ids
            case "--limit": limit = Int(try value(name)) ?? limit
            case "--window": window = Double(try value(name)) ?? window
            case "--time-scale":
                guard let scale = Double(try value(name)), scale > 0 else {
                    throw BenchmarkError("--time-scale takes X > 0")
                }
                window = 60 / scale
                explicit.insert("--window")
            case "--latency-ms": latencyMilliseconds = Double(try value(name)) ?? latencyMilliseconds
            case "--out": out = try value(name)
            case "--allow-debug": allowDebug = true
            case "--sha256": sha256Megabytes = Int(try value(name))
            case "--enrich": enrichRecords = Int(try value(name))
            case "--analytics": analyticsIDs = Int(try value(name))
            case "--enrich-files": enrichFiles = max(1, Int(try value(name)) ?? enrichFiles)
            case "--scale":
                scaleSizes = [1_000_000, 10_000_000]
                if let next = rest.first, !next.hasPrefix("--") {
                    let sizes = try value(name).split(separator: ",").compactMap { Int($0) }
                    guard !sizes.isEmpty else { throw BenchmarkError("--scale takes sizes such as 1000000,10000000") }
                    scaleSizes = sizes
                }
            case "--kill-trials": killTrials = max(0, Int(try value(name)) ?? killTrials)
            case "--no-fresh": freshGrowth = false
            case "--loadtest": loadtest = true
            case "--serve": serve = true
            case "--client": client = Strategy(rawValue: try value(name))
            case "--scenario": scenario = try value(name)
            case "--base": base = URL(string: try value(name))
            case "--deadline": deadline = Double(try value(name)) ?? deadline
            case "--shard": shard = Shard(try value(name))
            case "-h", "--help":
                print(Self.help)
                exit(0)
            default: throw BenchmarkError("unknown option \(name); see --help")
            }
        }
        if quick {
            if !explicit.contains("--ids") { ids = 300 }
            if !explicit.contains("--window") { window = 1 }
            if !explicit.contains("--limit") { limit = 100 }
            if !explicit.contains("--latency-ms") { latencyMilliseconds = 20 }
        }
        if long, !explicit.contains("--ids") {
            ids = max(ids, Int(90 * Double(limit) / window))
        }
    }

    /// The arguments a child needs to rebuild the same scenarios.
    var scaleArguments: [String] {
        ["--ids", "\(ids)", "--limit", "\(limit)", "--window", "\(window)", "--latency-ms", "\(latencyMilliseconds)"]
    }

    var scenarios: [Scenario] {
        Scenario.all(ids: ids, limit: limit, window: window, latency: .milliseconds(latencyMilliseconds))
    }
}
