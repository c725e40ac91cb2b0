import Foundation
import Glibc

/// `convoy enrich`: puts the records that `fetch` recovered beside the export they came from, file
/// by file (or, in Genesys's S3 layout, conversation folder by conversation folder), and reports
/// which fields the export lacked and the records hold.
///
/// The units are the export's JSON files outside conversation folders, and its
/// `conversation_id={id}` folders (``ExportScanner``): a folder's id is in its name, its
/// `_metadata.json` and transcript files are read (for the fields they hold, and any other id they
/// name), its recordings are not; its record goes to `<out>/<folder>.recovered.ndjson`, and its
/// report line counts the folder (its `sha256` and `bytes` are of its JSON files, in name order).
///
/// Data flow: index the records files by id (``RecordIndex``, 24 bytes an id) and the errors files
/// (``FailureReasons``); then for each export file, in name order, one at a time:
/// scan it (``ExportFileScan``) ─► its distinct ids in document order ─► each record read back by
/// offset ─► the sidecar `<out>/<file>.recovered.ndjson` (each record verbatim, one per id) and,
/// with ``Configuration/merged``, `<out>/merged/<file>` (the export's bytes with a `"convoy"` member
/// added to the first object of each conversation) ─► one line of `report.ndjson`, rows of
/// `report.csv`, and a row per conversation of `conversations.csv`. Last, one line of `enrich.manifest.ndjson`.
///
/// The export is only read. Every file written goes to a temp file first and is renamed into place
/// whole (``AtomicFile/Writer``), so an interrupted run leaves each file either whole or as it was.
/// Memory holds the index and one export file.
public final class Enricher {
    public struct Configuration: Sendable {
        /// An export file or a folder, found as `fetch --from-export` finds it.
        public var exportPath: String
        /// `fetch` outputs (several with sharded runs).
        public var recordsPaths: [String]
        /// `fetch` errors files: the reasons for ids with no record.
        public var errorsPaths: [String]
        /// Where everything is written; must not be inside the export.
        public var outputDirectory: String
        /// At most 64.
        public var fields: [FieldPath] = FieldPath.defaults
        /// Also write one merged document per export file.
        public var merged = false
        /// For the manifest.
        public var command: [String] = []
        public var tool = "convoy"

        public init(exportPath: String, recordsPaths: [String], errorsPaths: [String], outputDirectory: String) {
            self.exportPath = exportPath
            self.recordsPaths = recordsPaths
            self.errorsPaths = errorsPaths
            self.outputDirectory = outputDirectory
        }
    }

    /// Where a run stands.
    public struct Progress: Sendable {
        public var recordBytesIndexed: Int64 = 0
        public var filesDone = 0
        public var files = 0
        public var ids = 0
    }

    public static let reportName = "report.ndjson"
    public static let tableName = "report.csv"
    /// One row per conversation: which fields the export had and which the record recovered.
    public static let conversationsName = "conversations.csv"
    public static let manifestName = "enrich.manifest.ndjson"
    public static let sidecarSuffix = ".recovered.ndjson"
    public static let mergedFolder = "merged"
    /// The member the merged form adds.
    public static let mergedKey = "convoy"
    /// An export object's `convoy` member, looked up as a field (the first member is the part).
    private static let mergedMember = FieldPath("export.\(mergedKey)")!

    public let configuration: Configuration
    /// What is enriched, one report line each.
    private enum Unit {
        /// An export file outside any conversation folder.
        case file(path: String, relative: String)
        /// A conversation folder and the JSON files in it.
        case folder(ExportScanner.ConversationFolder, files: [(path: String, relative: String)])

        var relative: String {
            switch self {
            case .file(_, let relative): relative
            case .folder(let folder, _): folder.relative
            }
        }
    }

    private let units: [Unit]

    /// Checks the configuration and finds the export files.
    /// - Throws: ``ConvoyError/usage(_:)`` for a missing export, an output folder inside it, or more
    ///   than 64 fields.
    public init(configuration: Configuration) throws {
        guard !configuration.fields.isEmpty, configuration.fields.count <= 64 else {
            throw ConvoyError.usage("give between 1 and 64 fields (\(configuration.fields.count) given)")
        }
        self.configuration = configuration
        let export = Self.absolute(configuration.exportPath)
        let output = Self.absolute(configuration.outputDirectory)
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: export, isDirectory: &isFolder)
        if isFolder.boolValue, output == export || output.hasPrefix(export + "/") {
            throw ConvoyError.usage(
                "the output folder \(configuration.outputDirectory) is inside the export; choose one outside it")
        }
        let inputs = Set((configuration.recordsPaths + configuration.errorsPaths).map(Self.absolute))
        let scanner = ExportScanner(path: configuration.exportPath)
        let files = try scanner.entries().filter { !inputs.contains(Self.absolute($0.path)) }
        var inFolder: [String: [(path: String, relative: String)]] = [:]
        var loose: [Unit] = []
        for file in files {
            if let folder = ExportScanner.folder(holding: file.relative) {
                inFolder[folder, default: []].append(file)
            } else {
                loose.append(.file(path: file.path, relative: file.relative))
            }
        }
        let folders = try scanner.conversationFolders().map { Unit.folder($0, files: inFolder[$0.relative] ?? []) }
        units = (loose + folders).sorted { $0.relative < $1.relative }
    }

    /// Runs over every export file.
    /// - Parameters:
    ///   - progress: called as the records are indexed and after each export file.
    ///   - isCancelled: asked before each file; when true, the run stops there (outcome
    ///     `interrupted`), with the reports and manifest of the files done.
    /// - Returns: the totals; `complete` is false when cancelled.
    /// - Throws: when a file cannot be read or written. The manifest line is written first.
    public func run(
        progress: (Progress) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) throws
        -> EnrichSummary
    {
        let started = Date()
        let output = configuration.outputDirectory
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var status = Progress(files: units.count)
        let index = try RecordIndex(paths: configuration.recordsPaths) { bytes in
            status.recordBytesIndexed = bytes
            progress(status)
        }
        let reasons = try FailureReasons(paths: configuration.errorsPaths)
        var summary = EnrichSummary(fields: configuration.fields)
        summary.recordsIndexed = index.records
        summary.duplicateRecords = index.duplicates
        summary.unreadableRecords = index.unreadable

        var written: [RunManifest.FileState] = []
        var read: [RunManifest.ExportFile] = []
        var folders: Set<String> = [output]
        var outcome = "completed"
        var failure: Error?
        do {
            let report = try AtomicFile.Writer(path: (output as NSString).appendingPathComponent(Self.reportName))
            let table = try AtomicFile.Writer(path: (output as NSString).appendingPathComponent(Self.tableName))
            try table.write(EnrichTable.header.utf8)
            let conversations = try AtomicFile.Writer(
                path: (output as NSString).appendingPathComponent(Self.conversationsName))
            try conversations.write(EnrichTable.conversationHeader(configuration.fields).utf8)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for unit in units {
                if isCancelled() {
                    outcome = "interrupted"
                    break
                }
                var context = FileContext(
                    index: index, reasons: reasons, written: written, folders: folders, conversations: conversations)
                let fileReport: EnrichFileReport
                switch unit {
                case .file(let path, let relative):
                    let (report, fingerprint) = try enrich((path, relative), context: &context)
                    fileReport = report
                    read.append(RunManifest.ExportFile(path: relative, fingerprint: fingerprint))
                case .folder(let folder, let files):
                    let (report, fingerprints) = try enrich(folder, files: files, context: &context)
                    fileReport = report
                    read += zip(files, fingerprints).map { RunManifest.ExportFile(path: $0.relative, fingerprint: $1) }
                }
                (written, folders) = (context.written, context.folders)
                summary.add(fileReport)
                try report.write(try encoder.encode(fileReport) + [UInt8(ascii: "\n")])
                try table.write(EnrichTable.rows(fileReport).utf8)
                status.filesDone += 1
                status.ids += fileReport.ids
                progress(status)
            }
            if outcome == "completed", summary.ids == 0, summary.invalid == 0 {
                throw ExportScanner.nothingToRead(configuration.exportPath)
            }
            try table.write(EnrichTable.totalRows(summary).utf8)
            written.append(state(try report.commit(), Self.reportName))
            written.append(state(try table.commit(), Self.tableName))
            written.append(state(try conversations.commit(), Self.conversationsName))
        } catch {
            outcome = "failed"
            failure = error
        }
        for folder in folders { AtomicFile.syncFolder(of: (folder as NSString).appendingPathComponent("x")) }
        summary.complete = outcome == "completed"
        summary.wallSeconds = Date().timeIntervalSince(started)
        // Paths in the manifest are relative to its folder, where `convoy verify` looks for them.
        let manifestPath = (output as NSString).appendingPathComponent(Self.manifestName)
        let manifest = EnrichManifest(
            tool: configuration.tool, command: configuration.command, startedAt: RecordEncoder.timestamp(started),
            endedAt: RecordEncoder.timestamp(Date()), outcome: outcome, message: failure.map { "\($0)" },
            export: EnrichManifest.Export(
                path: ManifestPath.recorded(configuration.exportPath, manifest: manifestPath), files: read),
            records: zip(configuration.recordsPaths, index.fingerprints).map {
                RunManifest.FileState(path: ManifestPath.recorded($0, manifest: manifestPath), fingerprint: $1)
            },
            errors: try configuration.errorsPaths.filter { FileManager.default.fileExists(atPath: $0) }.map {
                RunManifest.FileState(
                    path: ManifestPath.recorded($0, manifest: manifestPath),
                    fingerprint: try FileFingerprint.measure(path: $0).whole)
            },
            written: written, counts: summary)
        try ManifestLog(path: manifestPath).append(manifest)
        if let failure { throw failure }
        return summary
    }

    /// What the files of a run share.
    private struct FileContext {
        let index: RecordIndex
        let reasons: FailureReasons
        var written: [RunManifest.FileState]
        var folders: Set<String>
        /// `conversations.csv`, a row per conversation as each file is done.
        let conversations: AtomicFile.Writer
    }

    /// Writes one export file's sidecar (and merged form) and returns its report and fingerprint.
    private func enrich(
        _ file: (path: String, relative: String), context: inout FileContext
    ) throws -> (EnrichFileReport, FileFingerprint) {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ConvoyError.input("cannot read \(file.path)")
        }
        var tally = FileFingerprint.Tally()
        data.withUnsafeBytes { tally.add($0) }
        let fingerprint = tally.fingerprint
        let report = try data.withUnsafeBytes { raw in
            try enrich(file, bytes: raw.bindMemory(to: UInt8.self), fingerprint: fingerprint, context: &context)
        }
        return (report, fingerprint)
    }

    private func enrich(
        _ file: (path: String, relative: String), bytes buffer: UnsafeBufferPointer<UInt8>,
        fingerprint: FileFingerprint, context: inout FileContext
    ) throws -> EnrichFileReport {
        let scan = ExportFileScan(bytes: buffer)
        let fields = configuration.fields

        // The file's ids, the fields its objects have, and the objects to merge into.
        var order: [ConversationID] = []
        var exportFields: [ConversationID: UInt64] = [:]
        var mergeInto: [ConversationID: Int] = [:]  // the `}` of the first object of each id
        var invalid: [EnrichFileReport.InvalidEntry] = []
        var conflicts = 0
        for (position, holder) in scan.holders.enumerated() {
            guard let id = ConversationID(holder.id) ?? ConversationID(holder.id.trimmingCharacters(in: .whitespaces))
            else {
                invalid.append(
                    .init(
                        text: holder.id, offset: holder.offset, position: position + 1, line: nil,
                        reason: "conversationId is not a UUID"))
                continue
            }
            let object = UnsafeBufferPointer(rebasing: buffer[holder.object])
            let isFirst = exportFields[id] == nil
            if isFirst { order.append(id) }
            exportFields[id, default: 0] |= FieldPath.presence(of: fields, in: object, inExport: true) ?? 0
            if isFirst, configuration.merged {
                if FieldPath.presence(of: [Self.mergedMember], in: object, inExport: true) == 0 {
                    mergeInto[id] = holder.object.upperBound
                } else {
                    conflicts += 1
                }
            }
        }
        for line in scan.unreadable {
            invalid.append(
                .init(
                    text: line.excerpt, offset: line.offset, position: nil, line: line.line,
                    reason: "the line is not JSON: its ids cannot be read"))
        }

        let sidecarName = file.relative + Self.sidecarSuffix
        let (counts, missing) = try writeSidecar(
            sidecarName, of: file.relative, ids: order, exportFields: exportFields, context: &context,
            withoutRecord: { mergeInto[$0] = nil })

        var mergedName: String?
        if configuration.merged {
            let name = (Self.mergedFolder as NSString).appendingPathComponent(file.relative)
            let merged = try writer(for: name, context: &context)
            var cursor = 0
            for (id, end) in mergeInto.sorted(by: { $0.value < $1.value }) {
                guard let record = try context.index.record(for: id) else { continue }
                try merged.write(buffer[cursor..<end])
                try merged.write(#","\#(Self.mergedKey)":"#.utf8)
                try merged.write(record)
                cursor = end
            }
            try merged.write(buffer[cursor...])
            context.written.append(state(try merged.commit(), name))
            mergedName = name
        }

        return EnrichFileReport(
            file: file.relative, sha256: fingerprint.sha256, bytes: fingerprint.bytes, ids: order.count,
            withRecord: order.count - missing.count, noRecord: missing, invalid: invalid, sidecar: sidecarName,
            merged: mergedName, mergeConflicts: conflicts, fields: counts)
    }

    /// Writes one conversation folder's sidecar: the record of the folder's id (and of any other id
    /// its JSON files name), and its report; returns the fingerprint of each of its files.
    private func enrich(
        _ folder: ExportScanner.ConversationFolder, files: [(path: String, relative: String)],
        context: inout FileContext
    ) throws -> (EnrichFileReport, [FileFingerprint]) {
        var order: [ConversationID] = []
        var exportFields: [ConversationID: UInt64] = [:]
        var invalid: [EnrichFileReport.InvalidEntry] = []
        let own = ConversationID(folder.idText)
        if let own {
            order.append(own)
            exportFields[own] = 0
        } else {
            invalid.append(
                .init(
                    text: folder.idText, offset: 0, position: nil, line: nil,
                    reason: "the folder's conversation_id= is not a UUID"))
        }
        var whole = FileFingerprint.Tally()
        var fingerprints: [FileFingerprint] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw ConvoyError.input("cannot read \(file.path)")
            }
            var tally = FileFingerprint.Tally()
            data.withUnsafeBytes {
                tally.add($0)
                whole.add($0)
            }
            fingerprints.append(tally.fingerprint)
            data.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                // What the folder's own metadata holds of the fields (a document that is one object).
                if let own, let present = FieldPath.presence(of: configuration.fields, in: bytes, inExport: true) {
                    exportFields[own, default: 0] |= present
                }
                for holder in ExportFileScan(bytes: bytes).holders {
                    guard let id = ConversationID(holder.id.trimmingCharacters(in: .whitespaces)) else { continue }
                    let object = UnsafeBufferPointer(rebasing: bytes[holder.object])
                    if exportFields[id] == nil { order.append(id) }
                    exportFields[id, default: 0] |=
                        FieldPath.presence(of: configuration.fields, in: object, inExport: true) ?? 0
                }
            }
        }
        let sidecarName = folder.relative + Self.sidecarSuffix
        let (counts, missing) = try writeSidecar(
            sidecarName, of: folder.relative, ids: order, exportFields: exportFields, context: &context,
            withoutRecord: { _ in })
        let fingerprint = whole.fingerprint
        let report = EnrichFileReport(
            file: folder.relative, sha256: fingerprint.sha256, bytes: fingerprint.bytes, ids: order.count,
            withRecord: order.count - missing.count, noRecord: missing, invalid: invalid, sidecar: sidecarName,
            merged: nil, mergeConflicts: 0, fields: counts)
        return (report, fingerprints)
    }

    /// Writes the sidecar `name`: the record of each of `ids` that has one, verbatim; counts for each
    /// field where it was (the export, the record, neither); `withoutRecord` hears of each id with none.
    private func writeSidecar(
        _ name: String, of unit: String, ids order: [ConversationID], exportFields: [ConversationID: UInt64],
        context: inout FileContext, withoutRecord: (ConversationID) -> Void
    ) throws -> ([EnrichFileReport.FieldCount], [EnrichFileReport.MissingRecord]) {
        let fields = configuration.fields
        let sidecar = try writer(for: name, context: &context)
        var counts = fields.map { EnrichFileReport.FieldCount(field: $0.description) }
        var missing: [EnrichFileReport.MissingRecord] = []
        for id in order {
            var recordFields: UInt64 = 0
            var found = "yes"
            if let record = try context.index.record(for: id) {
                try sidecar.write(record + [UInt8(ascii: "\n")])
                recordFields = record.withUnsafeBufferPointer { FieldPath.presence(of: fields, in: $0) } ?? 0
            } else {
                withoutRecord(id)
                let reason =
                    context.reasons.reason(for: id)
                    ?? "no record and no error: it was not fetched (run fetch --from-export over this export)"
                missing.append(.init(id: id.description, reason: reason))
                found = "no: " + reason
            }
            let inExport = exportFields[id] ?? 0
            try context.conversations.write(
                EnrichTable.conversationRow(
                    file: unit, id: id.description, record: found, fields: fields.count, inExport: inExport,
                    inRecord: recordFields
                ).utf8)
            for bit in counts.indices {
                if inExport & 1 << bit != 0 {
                    counts[bit].inExport += 1
                    continue
                }
                counts[bit].absent += 1
                if recordFields & 1 << bit != 0 {
                    counts[bit].recovered += 1
                } else {
                    counts[bit].stillMissing += 1
                    counts[bit].missingIds.append(id.description)
                }
            }
        }
        context.written.append(state(try sidecar.commit(), name))
        return (counts, missing)
    }

    /// A writer for `relative` under the output folder, its folder created. The file must land
    /// under the output folder: `relative` is plain components (no `..`), and no folder between the
    /// output folder and the file is a link (one planted there would carry the file out of it).
    private func writer(for relative: String, context: inout FileContext) throws -> AtomicFile.Writer {
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.hasPrefix("/"), components.allSatisfy({ !["", ".", ".."].contains($0) }) else {
            throw ConvoyError.output("refusing to write '\(relative)': not a plain path under the output folder")
        }
        let path = (configuration.outputDirectory as NSString).appendingPathComponent(relative)
        let folder = (path as NSString).deletingLastPathComponent
        if context.folders.insert(folder).inserted {
            var walked = configuration.outputDirectory
            for component in components.dropLast() {
                walked = (walked as NSString).appendingPathComponent(String(component))
                var status = stat()
                if lstat(walked, &status) == 0, status.st_mode & S_IFMT == S_IFLNK {
                    context.folders.remove(folder)
                    throw ConvoyError.output(
                        "refusing to write \(path): \(walked) is a link, which could lead outside the output "
                            + "folder \(configuration.outputDirectory)")
                }
            }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        return try AtomicFile.Writer(path: path)
    }

    private func state(_ fingerprint: FileFingerprint, _ relative: String) -> RunManifest.FileState {
        RunManifest.FileState(path: relative, fingerprint: fingerprint)
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
