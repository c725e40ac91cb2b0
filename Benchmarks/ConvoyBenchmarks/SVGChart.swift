import ConvoyLoad
import Foundation

/// Draws a scenario's timelines (``TimelineChart``): one panel per strategy, requests per second
/// over time, the allowed rate stepping down where the scenario changes the limit.
enum SVGChart {
    static func render(scenario: Scenario, rows: [(Strategy, [Timeline.Bucket])]) -> String {
        let perSecond = { (count: Int) in Double(count) / Timeline.bucket }
        let seconds = max(1, rows.map { Double($0.1.count) * Timeline.bucket }.max() ?? 1)
        var allowed: [TimelineChart.Allowed] = []
        if scenario.allowedRate.isFinite {
            allowed = [.init(from: 0, to: seconds, rate: scenario.allowedRate)]
            if case .fixedWindow(let limit, let window)? = scenario.limitChange {
                let change = Double(scenario.ids) / scenario.allowedRate / 2
                allowed = [
                    .init(from: 0, to: change, rate: scenario.allowedRate),
                    .init(from: change, to: seconds, rate: Double(limit) / window.seconds),
                ]
            }
        }
        return TimelineChart.render(
            title: "\(scenario.name): \(scenario.summary)",
            subtitle: "one panel per strategy; requests per second in 100 ms buckets",
            series: rows.map { strategy, buckets in
                TimelineChart.Series(
                    name: strategy.rawValue,
                    points: buckets.map {
                        .init(
                            sent: perSecond($0.sent), ok: perSecond($0.ok), throttled: perSecond($0.throttled),
                            pace: $0.budget)
                    })
            },
            bucketSeconds: Timeline.bucket, allowed: allowed, paceLabel: "Convoy's pace")
    }
}
