import Foundation

/// One line of the results: a strategy on a scenario, with the figures derived from it.
struct ResultRow: Codable {
    var scenario: String
    var strategy: Strategy
    var ids: Int
    var allowedRate: Double?
    var floorSeconds: Double?
    /// wall ÷ floor.
    var wallOverFloor: Double?
    /// Answered ids per second ÷ the allowed rate: `floor × (answered ÷ ids) ÷ wall`.
    var goodputOverLimit: Double?
    var throttledShare: Double
    /// Requests the server counted (it sees retries and the client's in-flight requests alike).
    var serverRequests: Int
    var serverThrottled: Int
    var cpuPerThousand: Double
    var result: ClientResult

    init(scenario: Scenario, result: ClientResult, server: (requests: Int, throttled: Int)) {
        self.scenario = scenario.name
        strategy = result.strategy
        ids = scenario.ids
        let answered = Double(result.fetched + result.notFound)
        if scenario.allowedRate.isFinite {
            allowedRate = scenario.allowedRate
            floorSeconds = scenario.floorSeconds
            wallOverFloor = result.wallSeconds / scenario.floorSeconds
            goodputOverLimit = scenario.floorSeconds * (answered / Double(scenario.ids)) / result.wallSeconds
        }
        throttledShare = result.requests > 0 ? Double(result.throttled) / Double(result.requests) : 0
        serverRequests = server.requests
        serverThrottled = server.throttled
        cpuPerThousand = result.fetched > 0 ? result.cpuSeconds / Double(result.fetched) * 1000 : 0
        self.result = result
    }
}

enum Report {
    static let header = [
        "scenario", "strategy", "wall s", "÷floor", "goodput÷limit", "429s", "429 %", "retries", "p50 ms", "p90 ms",
        "p99 ms", "CPU s/1k", "RSS MiB", "lost", "dup", "unfinished",
    ]

    static func cells(_ row: ResultRow) -> [String] {
        let r = row.result
        func f(_ value: Double?, _ digits: Int) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        return [
            row.scenario, row.strategy.rawValue, f(r.wallSeconds, 1), f(row.wallOverFloor, 2),
            f(row.goodputOverLimit, 3),
            "\(r.throttled)", f(row.throttledShare * 100, 2), "\(r.retries)", f(r.latencyMilliseconds[0], 0),
            f(r.latencyMilliseconds[1], 0), f(r.latencyMilliseconds[2], 0), f(row.cpuPerThousand, 2),
            f(r.peakRSSMiB, 1), "\(r.lost)", "\(r.duplicated)", "\(r.unfinished)",
        ]
    }

    /// A Markdown table (readable on a terminal too).
    static func table(_ rows: [ResultRow]) -> String {
        let all = [header] + rows.map(cells)
        let widths = header.indices.map { column in all.map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            "| "
                + cells.enumerated().map {
                    $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
                }
                .joined(separator: " | ") + " |"
        }
        let rule = "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"
        return ([line(header), rule] + rows.map { line(cells($0)) }).joined(separator: "\n")
    }
}
