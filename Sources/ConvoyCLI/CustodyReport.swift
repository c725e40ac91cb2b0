import Convoy
import Foundation

/// The HTML of `convoy report`: one self-contained page (inline CSS and SVG, nothing fetched) that
/// prints to PDF as it shows. Every value from a file is escaped.
struct CustodyReport {
    /// Rows a long table shows at most; the rest are counted.
    static let rowsShown = 500

    var outputPath: String
    var manifestPath: String
    var generatedAt: String
    var tool: String
    var checks: [CustodyVerifier.Check] = []
    /// The manifest's lines, parsed, oldest first (checkpoints included).
    var runs: [[String: Any]] = []
    /// The fetch's errors file, `rowsShown + 1` lines at most.
    var failures: [[String: Any]] = []
    var enrichedPath: String?
    var enrichChecks: [CustodyVerifier.Check] = []
    var enrichRun: [String: Any]?
    /// `report.ndjson` of the enrich folder, one object per export file.
    var enrichFiles: [[String: Any]] = []

    /// True when every check, the enrich folder's included, passed.
    var verified: Bool { (checks + enrichChecks).allSatisfy { $0.discrepancies.isEmpty } }

    func html() -> String {
        var body: [String] = []
        body.append("<h1>Custody report</h1>")
        body.append(
            "<p class=meta>Output <code>\(e(ManifestPath.absolute(outputPath)))</code>, manifest <code>"
                + "\(e(ManifestPath.absolute(manifestPath)))</code>. Generated \(e(generatedAt)) by \(e(tool)).</p>")
        body.append(verdict())
        body.append(section("Verification of the output", checkList(checks)))
        body.append(section("Run history", runTable() + chart()))
        body.append(section("Files and their SHA-256", fileTable()))
        if let enrichedPath {
            body.append(
                section(
                    "Enrichment of the export (\(e(enrichedPath)))",
                    checkList(enrichChecks) + "<h3>Fields recovered</h3>" + fieldTable()
                        + "<h3>Export ids without a record</h3>"
                        + noRecordTable()))
        }
        body.append(section("Ids the fetch could not record", failureTable()))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Custody report: \(e((outputPath as NSString).lastPathComponent))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;max-width:1100px;margin:2em auto;padding:0 1em}
            h1{font-size:26px;margin:0 0 .2em}h2{font-size:19px;border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
            h3{font-size:15px;margin:1.2em 0 .4em}.meta{color:#555}code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
            table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:12.5px}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
            th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .verdict{padding:.8em 1em;border-radius:6px;font-size:16px;font-weight:600;margin:1em 0}
            .ok{background:#e6f4ea;border:2px solid #1e7b34;color:#0f4d20}.bad{background:#fde8e8;border:2px solid #b3261e;color:#7a1410}
            ul.checks{list-style:none;padding-left:0}ul.checks li{margin:.2em 0}.pass{color:#1e7b34;font-weight:600}.fail{color:#b3261e;font-weight:600}
            .more{color:#555;font-style:italic}svg{max-width:100%;height:auto}
            @media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}tr{break-inside:avoid}.verdict{border-width:1px}}
            </style></head><body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    private func verdict() -> String {
        let problems = (checks + enrichChecks).reduce(0) { $0 + $1.discrepancies.count }
        return problems == 0
            ? "<div class=\"verdict ok\">Verified: nothing added, dropped or altered since the last run recorded it.</div>"
            : "<div class=\"verdict bad\">NOT verified: \(problems) discrepanc\(problems == 1 ? "y" : "ies"), each named below.</div>"
    }

    private func section(_ title: String, _ content: String) -> String { "<h2>\(title)</h2>\n\(content)" }

    private func checkList(_ checks: [CustodyVerifier.Check]) -> String {
        var items: [String] = []
        for check in checks {
            if check.discrepancies.isEmpty {
                items.append("<li><span class=pass>ok</span> \(e(check.subject))</li>")
            } else {
                items += check.discrepancies.map { "<li><span class=fail>FAIL</span> \(e($0))</li>" }
            }
        }
        return "<ul class=checks>\(items.joined())</ul>"
    }

    private func runTable() -> String {
        var rows: [String] = []
        for (index, run) in runs.enumerated() {
            let counts = run["counts"] as? [String: Any] ?? [:]
            let outcome = run["outcome"] as? String ?? "?"
            let who = [run["user"] as? String, run["host"] as? String].compactMap { $0 }.joined(separator: " on ")
            let message = (run["message"] as? String).map { "<br>\(e($0))" } ?? ""
            rows.append(
                "<tr><td class=n>\(index + 1)</td><td>\(e(run["startedAt"]))</td><td>\(e(run["endedAt"]))</td>"
                    + "<td>\(e(outcome == "running" ? "checkpoint" : outcome))\(message)</td><td>\(e(who.isEmpty ? "not recorded" : who))</td>"
                    + "<td class=n>\(e(counts["fetched"]))</td><td class=n>\(e(counts["failed"]))</td>"
                    + "<td class=n>\(e(counts["skipped"]))</td><td><code>\(e((run["command"] as? [String])?.joined(separator: " ")))</code></td></tr>"
            )
        }
        return table(
            [
                "line", "started (UTC)", "ended (UTC)", "outcome", "operator and host", "fetched", "failed", "skipped",
                "command",
            ],
            rows)
    }

    private func fileTable() -> String {
        var rows: [String] = []
        /// `base`: the manifest the path is relative to; nil for a path shown as recorded (the input's).
        func row(_ role: String, _ state: Any?, base: String?) {
            guard let state = state as? [String: Any], let hash = state["sha256"] as? String else { return }
            let recorded = state["path"] as? String ?? "?"
            let path = base.map { ManifestPath.resolved(recorded, manifest: $0) } ?? recorded
            rows.append(
                "<tr><td>\(e(role))</td><td><code>\(e(path))</code></td><td><code>\(e(hash))</code></td>"
                    + "<td class=n>\(e(state["bytes"]))</td><td class=n>\(e(state["lines"]))</td></tr>")
        }
        if let last = runs.last {
            row("output", last["output"], base: manifestPath)
            row("errors", last["errors"], base: manifestPath)
            if let input = last["input"] as? [String: Any] {
                var state = input
                state["path"] = input["source"]
                row("input", state, base: nil)
                let files = input["files"] as? [[String: Any]] ?? []
                for file in files.prefix(Self.rowsShown) { row("input (export file)", file, base: nil) }
                if files.count > Self.rowsShown {
                    rows.append(
                        "<tr><td colspan=5 class=more>and \(files.count - Self.rowsShown) more export files</td></tr>")
                }
            }
        }
        if let enrichRun, let enrichedPath {
            let base = (enrichedPath as NSString).appendingPathComponent(Enricher.manifestName)
            for record in enrichRun["records"] as? [[String: Any]] ?? [] {
                row("enrich: records read", record, base: base)
            }
            for errors in enrichRun["errors"] as? [[String: Any]] ?? [] {
                row("enrich: errors read", errors, base: base)
            }
            if let export = enrichRun["export"] as? [String: Any], let folder = export["path"] as? String {
                let root = ManifestPath.resolved(folder, manifest: base)
                let files = export["files"] as? [[String: Any]] ?? []
                for file in files.prefix(Self.rowsShown) {
                    var state = file
                    state["path"] = (root as NSString).appendingPathComponent(file["path"] as? String ?? "?")
                    row("enrich: export file read", state, base: nil)
                }
            }
            let written = enrichRun["written"] as? [[String: Any]] ?? []
            for file in written.prefix(Self.rowsShown) { row("enrich: written", file, base: base) }
            if written.count > Self.rowsShown {
                rows.append(
                    "<tr><td colspan=5 class=more>and \(written.count - Self.rowsShown) more written files</td></tr>")
            }
        }
        return table(["role", "file", "SHA-256", "bytes", "lines"], rows)
    }

    private func fieldTable() -> String {
        let fields = ((enrichRun?["counts"] as? [String: Any])?["fields"] as? [[String: Any]]) ?? []
        let rows = fields.map { field in
            "<tr><td><code>\(e(field["field"]))</code></td><td class=n>\(e(field["inExport"]))</td>"
                + "<td class=n>\(e(field["absent"]))</td><td class=n>\(e(field["recovered"]))</td>"
                + "<td class=n>\(e(field["stillMissing"]))</td></tr>"
        }
        return table(["field", "in the export", "absent from it", "recovered", "still missing"], rows)
    }

    private func noRecordTable() -> String {
        var rows: [String] = []
        var total = 0
        for file in enrichFiles {
            for entry in file["noRecord"] as? [[String: Any]] ?? [] {
                total += 1
                guard rows.count < Self.rowsShown else { continue }
                rows.append(
                    "<tr><td><code>\(e(file["file"]))</code></td><td><code>\(e(entry["id"]))</code></td><td>\(e(entry["reason"]))</td></tr>"
                )
            }
        }
        if total > rows.count { rows.append("<tr><td colspan=3 class=more>and \(total - rows.count) more</td></tr>") }
        return total == 0 ? "<p>Every id of the export has a record.</p>" : table(["export file", "id", "why"], rows)
    }

    private func failureTable() -> String {
        guard !failures.isEmpty else { return "<p>None: every id the runs were given is in the output.</p>" }
        var rows = failures.prefix(Self.rowsShown).map { failure in
            "<tr><td><code>\(e(failure["id"] ?? failure["line"]))</code></td><td class=n>\(e(failure["status"]))</td>"
                + "<td>\(e(failure["reason"]))</td><td class=n>\(e(failure["attempts"]))</td><td>\(e(failure["failedAt"]))</td></tr>"
        }
        if failures.count > Self.rowsShown {
            rows.append("<tr><td colspan=5 class=more>and more: the errors file holds them all</td></tr>")
        }
        return table(["id", "status", "why", "attempts", "when (UTC)"], rows)
    }

    /// Fetched and failed per run, as grouped bars (colour-blind-safe colours, a hatched failure
    /// bar), with a legend, labelled ticks and the count above each bar.
    private func chart() -> String {
        let finished = runs.filter { $0["outcome"] as? String != "running" }
        guard !finished.isEmpty else { return "" }
        let values = finished.map { run -> (Int, Int) in
            let counts = run["counts"] as? [String: Any] ?? [:]
            return ((counts["fetched"] as? Int) ?? 0, (counts["failed"] as? Int) ?? 0)
        }
        let top = max(1, values.map { max($0.0, $0.1) }.max() ?? 1)
        let step = Self.niceStep(Double(top) / 4)
        let ceiling = step * (Double(top) / step).rounded(.up)
        let (left, right, topMargin, bottom) = (70.0, 20.0, 40.0, 50.0)
        let group = max(60.0, min(160.0, 760.0 / Double(values.count)))
        let width = left + right + group * Double(values.count)
        let height = 300.0
        let plot = height - topMargin - bottom
        func y(_ value: Double) -> Double { topMargin + plot - plot * value / ceiling }
        var svg: [String] = []
        svg.append(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" "
                + "height=\"\(f(height))\" role=\"img\" aria-label=\"conversations fetched and failed per run\" "
                + "font-family=\"system-ui,sans-serif\" font-size=\"12\">")
        svg.append(
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                + "<rect width=\"6\" height=\"6\" fill=\"#E69F00\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#7a5200\" stroke-width=\"2\"/></pattern></defs>"
        )
        var tick = 0.0
        while tick <= ceiling + 1e-9 {
            svg.append(
                "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\" stroke=\"#ddd\"/>"
                    + "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(Int(tick))</text>")
            tick += step
        }
        svg.append(
            "<text x=\"14\" y=\"\(f(topMargin + plot / 2))\" transform=\"rotate(-90 14 \(f(topMargin + plot / 2)))\" "
                + "text-anchor=\"middle\">conversations</text>")
        let bar = group * 0.32
        for (index, (fetched, failed)) in values.enumerated() {
            let x = left + group * Double(index) + group * 0.16
            for (offset, value, fill) in [(0.0, fetched, "#0072B2"), (bar, failed, "url(#hatch)")] {
                svg.append(
                    "<rect x=\"\(f(x + offset))\" y=\"\(f(y(Double(value))))\" width=\"\(f(bar))\" "
                        + "height=\"\(f(plot * Double(value) / ceiling))\" fill=\"\(fill)\" stroke=\"#333\" stroke-width=\"0.5\"/>"
                        + "<text x=\"\(f(x + offset + bar / 2))\" y=\"\(f(y(Double(value)) - 4))\" text-anchor=\"middle\">\(value)</text>"
                )
            }
            svg.append(
                "<text x=\"\(f(x + bar))\" y=\"\(f(topMargin + plot + 18))\" text-anchor=\"middle\">run \(index + 1)</text>"
            )
        }
        svg.append(
            "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(0)))\" y2=\"\(f(y(0)))\" stroke=\"#333\"/>"
                + "<text x=\"\(f(left + (width - left - right) / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">"
                + "run (manifest lines that ended a run)</text>")
        svg.append(
            "<rect x=\"\(f(left))\" y=\"8\" width=\"14\" height=\"14\" fill=\"#0072B2\"/><text x=\"\(f(left + 20))\" y=\"19\">fetched</text>"
                + "<rect x=\"\(f(left + 90))\" y=\"8\" width=\"14\" height=\"14\" fill=\"url(#hatch)\" stroke=\"#333\" stroke-width=\"0.5\"/>"
                + "<text x=\"\(f(left + 110))\" y=\"19\">failed (in the errors file)</text>")
        svg.append("</svg>")
        return "<h3>Conversations per run</h3>\n" + svg.joined(separator: "\n")
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 1 else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * power >= raw { return factor * power }
        return 10 * power
    }

    private func table(_ headers: [String], _ rows: [String]) -> String {
        guard !rows.isEmpty else { return "<p>None.</p>" }
        return "<table><thead><tr>" + headers.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
            + rows.joined(separator: "\n") + "\n</tbody></table>"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `value` as HTML text: `&`, `<`, `>`, `"` and `'` escaped; nil as an empty cell.
    private func e(_ value: Any?) -> String {
        guard let value else { return "" }
        let text = value is NSNull ? "" : "\(value)"
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
