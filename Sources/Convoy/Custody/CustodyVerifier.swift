import Foundation

/// Checks an output against its manifest: what `convoy verify` reports.
///
/// Checks, each reported as passed or as the discrepancies found:
/// 1. the manifest: every line a manifest, its seal intact, and chained to the line before;
/// 2. the output: SHA-256, size and line count equal to the last line's, and its first bytes equal
///    to what each earlier run recorded (the output only ever grows);
/// 3. the errors file: equal to the last line's figures;
/// 4. vouched: no record was in a file when a run began unless an earlier line covers it;
/// 5. the records: each line valid JSON with a string `id`, output ids unique and valid, no id in
///    both files;
/// 6. given the input: every input id of the run's shard in exactly one of the two files, and no
///    record for an id the input does not hold.
public struct CustodyVerifier: Sendable {
    /// What one check found.
    public struct Check: Sendable, Equatable {
        /// What was checked, and the figures when it passed.
        public var subject: String
        /// Empty when the check passed.
        public var discrepancies: [String]
    }

    public var outputPath: String
    /// The errors file; default: the path the last manifest line names.
    public var errorsPath: String?
    public var manifestPath: String

    public init(outputPath: String, errorsPath: String? = nil, manifestPath: String? = nil) {
        self.outputPath = outputPath
        self.errorsPath = errorsPath
        self.manifestPath = manifestPath ?? ManifestLog.defaultPath(for: outputPath)
    }

    /// Runs every check; `input` adds the accounting of input ids.
    public func verify<Input: AsyncSequence>(input: Input?) async throws -> [Check]
    where Input.Element == IDReader.Element {
        var checks: [Check] = []
        let (manifestCheck, manifests) = try checkManifest()
        checks.append(manifestCheck)
        guard let last = manifests.last else { return checks }
        checks.append(try checkOutput(manifests))
        checks.append(Self.checkVouched(manifests))
        // Found from the manifest's folder, where the run recorded it: never the working directory's.
        let errorsPath = errorsPath ?? ManifestPath.resolved(last.errors.path, manifest: manifestPath)
        checks.append(try checkFile(errorsPath, against: last.errors, name: "errors"))
        let (recordsCheck, outputIDs, errorIDs) = try checkRecords(errorsPath: errorsPath)
        checks.append(recordsCheck)
        if let input {
            let shard = last.shard.flatMap(Shard.init)
            checks.append(try await checkInput(input, shard: shard, outputIDs: outputIDs, errorIDs: errorIDs))
        }
        return checks
    }

    private func checkManifest() throws -> (Check, [RunManifest]) {
        let lines = try ManifestLog(path: manifestPath).lines()
        guard !lines.isEmpty else {
            return (
                Check(
                    subject: "manifest \(manifestPath)", discrepancies: ["no manifest lines: nothing to verify against"]
                ), []
            )
        }
        let (problems, manifests) = RunManifest.checkChain(lines)
        let runs = manifests.indices.filter { $0 == 0 || manifests[$0 - 1].startedAt != manifests[$0].startedAt }.count
        let checkpoints = manifests.filter { $0.outcome == .running }.count
        let subject =
            "manifest \(ManifestPath.absolute(manifestPath)): \(runs) run\(runs == 1 ? "" : "s")"
            + (checkpoints > 0 ? " (\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s"))" : "")
            + ", every line sealed and chained"
        return (Check(subject: subject, discrepancies: problems), manifests)
    }

    private func checkOutput(_ manifests: [RunManifest]) throws -> Check {
        guard let last = manifests.last else { preconditionFailure("checked by the caller") }
        // Earlier runs on the same file recorded prefixes of what it holds now.
        let earlier = manifests.dropLast().filter { $0.resumable && $0.output.path == last.output.path }
        let measured: (whole: FileFingerprint, prefixes: [Int64: FileFingerprint])
        do {
            let all = try FileFingerprint.measure(path: outputPath, prefixes: Set(earlier.map(\.output.bytes)))
            measured = (all.whole, all.prefixes)
        } catch {
            return Check(subject: "output \(outputPath)", discrepancies: ["cannot read the output: \(error)"])
        }
        var problems = Self.compare(measured.whole, with: last.output.fingerprint, name: "output")
        // The records each run appended lie between what the run before it held and what it held:
        // the first run whose prefix no longer matches names the lines where the change is.
        var linesBefore = 0
        var located = false
        for (index, manifest) in manifests.enumerated().dropLast()
        where manifest.resumable && manifest.output.path == last.output.path {
            let lines = manifest.output.fingerprint.lines
            if measured.prefixes[manifest.output.bytes] != manifest.output.fingerprint {
                let range =
                    located
                    ? "" : ": the change is in records \(linesBefore + 1)–\(lines), which run \(index + 1) wrote"
                problems.append(
                    "output: its first \(manifest.output.bytes) bytes are not what run \(index + 1) recorded "
                        + "(records were altered or removed)" + range)
                located = true
            }
            linesBefore = lines
        }
        if !located, measured.whole != last.output.fingerprint, linesBefore > 0 {
            problems.append(
                "output: the records every earlier run vouched for are intact: the change is after record "
                    + "\(linesBefore), in what the last run wrote")
        }
        let whole = measured.whole
        return Check(
            subject:
                "output \(ManifestPath.absolute(outputPath)): \(whole.lines) records, \(whole.bytes) bytes, SHA-256 \(whole.sha256), "
                + "as the last run recorded" + (earlier.isEmpty ? "" : ", and begins with what each earlier run did"),
            discrepancies: problems)
    }

    /// Every record was written by a run whose line vouches for it: none was in a file when a run
    /// began unless an earlier line covers it. Records no line covers were planted, or left by a run
    /// killed before it could write its line; either way no run vouches for them, and they are named.
    static func checkVouched(_ manifests: [RunManifest]) -> Check {
        var problems: [String] = []
        var run = 0
        for (index, manifest) in manifests.enumerated() {
            // A run's checkpoints and its last line share its start and what it found then.
            if index > 0, manifests[index - 1].startedAt == manifest.startedAt { continue }
            run += 1
            let found = manifest.found
            for (count, ids, file) in [
                (found.uncoveredOutputRecords, found.unvouchedOutputIDs, "output"),
                (found.uncoveredErrorRecords, found.unvouchedErrorIDs, "errors file"),
            ] where count > 0 {
                let named = ids.map { ": " + sample($0) + ($0.count < count ? " (the first \($0.count))" : "") } ?? ""
                problems.append(
                    "run \(run) began with \(count) record\(count == 1 ? "" : "s") in the \(file) that no run "
                        + "vouches for (planted, or left by a run killed before it wrote its line)\(named)")
            }
        }
        return Check(subject: "vouched: every record was written by a run that recorded it", discrepancies: problems)
    }

    private func checkFile(_ path: String, against state: RunManifest.FileState, name: String) throws -> Check {
        guard let whole = try? FileFingerprint.measure(path: path).whole else {
            return Check(subject: "\(name) \(path)", discrepancies: ["\(name): cannot read \(path)"])
        }
        return Check(
            subject:
                "\(name) \(ManifestPath.absolute(path)): \(whole.lines) records, \(whole.bytes) bytes, SHA-256 \(whole.sha256), as recorded",
            discrepancies: Self.compare(whole, with: state.fingerprint, name: name).map {
                "\($0) (\(ManifestPath.absolute(path)))"
            })
    }

    private static func compare(_ found: FileFingerprint, with recorded: FileFingerprint, name: String) -> [String] {
        var problems: [String] = []
        if found.sha256 != recorded.sha256 {
            problems.append("\(name): SHA-256 is \(found.sha256), the manifest says \(recorded.sha256)")
        }
        if found.bytes != recorded.bytes {
            problems.append("\(name): \(found.bytes) bytes, the manifest says \(recorded.bytes)")
        }
        if found.lines != recorded.lines {
            problems.append("\(name): \(found.lines) lines, the manifest says \(recorded.lines)")
        }
        return problems
    }

    private func checkRecords(errorsPath: String) throws -> (Check, Set<String>, Set<String>) {
        var problems: [String] = []
        var outputIDs = Set<String>()
        var errorIDs = Set<String>()
        func read(_ path: String, name: String, into ids: inout Set<String>, uuids: Bool) throws {
            var number = 0
            do {
                try NDJSONFile.forEachLine(atPath: path) { line in
                    number += 1
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                        let id = object["id"] as? String
                    else {
                        problems.append("\(name) line \(number) is not a JSON record with an id")
                        return
                    }
                    if uuids, ConversationID(id)?.description != id {
                        problems.append("\(name) line \(number): '\(id)' is not a conversation id as Convoy writes it")
                    }
                    if !ids.insert(id).inserted {
                        problems.append("\(name) line \(number): id \(id) appears more than once")
                    }
                }
            } catch {
                problems.append("cannot read \(path): \(error)")
            }
        }
        try read(outputPath, name: "output", into: &outputIDs, uuids: true)
        try read(errorsPath, name: "errors", into: &errorIDs, uuids: false)
        for id in outputIDs.intersection(errorIDs).sorted() {
            problems.append("id \(id) is in both the output and the errors file")
        }
        let subject = "records: every line valid JSON, \(outputIDs.count) + \(errorIDs.count) ids, none repeated"
        return (Check(subject: subject, discrepancies: problems), outputIDs, errorIDs)
    }

    private func checkInput<Input: AsyncSequence>(
        _ input: Input, shard: Shard?, outputIDs: Set<String>, errorIDs: Set<String>
    ) async throws -> Check where Input.Element == IDReader.Element {
        var expected = Set<String>()
        for try await (_, item) in input {
            switch item {
            case .skip:
                continue
            case .invalid(let text, _):
                expected.insert(text)
            case .id(let id):
                if let shard, !shard.contains(id) { continue }
                expected.insert(id.description)
            }
        }
        let recorded = outputIDs.union(errorIDs)
        var problems: [String] = []
        let missing = expected.subtracting(recorded).sorted()
        if !missing.isEmpty {
            problems.append(
                "\(missing.count) input ids are in neither file: " + Self.sample(missing))
        }
        let extra = recorded.subtracting(expected).sorted()
        if !extra.isEmpty {
            problems.append("\(extra.count) records are for ids the input does not hold: " + Self.sample(extra))
        }
        let scope = shard.map { " of shard \($0)" } ?? ""
        return Check(
            subject: "input: \(expected.count) ids\(scope), each in exactly one of the two files",
            discrepancies: problems)
    }

    private static func sample(_ ids: [String]) -> String {
        ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? ", …" : "")
    }
}
