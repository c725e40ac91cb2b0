import Foundation

/// Checks an enrich output folder against its manifest: what `convoy verify DIR` reports.
///
/// 1. the manifest: every line an enrich manifest, sealed and chained;
/// 2. the export: each file the last run read still has the SHA-256 and size it recorded (the
///    originals are untouched), and the export holds no file the run did not read;
/// 3. the files written: each sidecar, merged file and report as the last run wrote it.
public struct EnrichVerifier: Sendable {
    public var directory: String
    /// The export; default: the path the last manifest line names.
    public var exportPath: String?

    public init(directory: String, exportPath: String? = nil) {
        self.directory = directory
        self.exportPath = exportPath
    }

    public var manifestPath: String { (directory as NSString).appendingPathComponent(Enricher.manifestName) }

    /// True when `path` is a folder with an enrich manifest.
    public static func isEnrichFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(Enricher.manifestName))
    }

    public func verify() throws -> [CustodyVerifier.Check] {
        let lines = try ManifestLog(path: manifestPath).lines()
        let (problems, manifests) = EnrichManifest.checkChain(lines)
        var checks = [
            CustodyVerifier.Check(
                subject:
                    "manifest \(ManifestPath.absolute(manifestPath)): \(lines.count) enrich run\(lines.count == 1 ? "" : "s"), "
                    + "every line sealed and chained",
                discrepancies: lines.isEmpty ? ["no manifest lines: nothing to verify against"] : problems)
        ]
        guard let last = manifests.last else { return checks }
        // Found from the manifest's folder, where the run recorded it: never the working directory's.
        let export = exportPath ?? ManifestPath.resolved(last.export.path, manifest: manifestPath)
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: export, isDirectory: &isFolder)
        let root = isFolder.boolValue ? export : (export as NSString).deletingLastPathComponent
        var exportProblems: [String] = []
        for file in last.export.files {
            let path = (root as NSString).appendingPathComponent(file.path)
            guard let found = try? FileFingerprint.measure(path: path).whole else {
                exportProblems.append("export: \(file.path) is gone")
                continue
            }
            if found.sha256 != file.sha256 || found.bytes != file.bytes {
                exportProblems.append(
                    "export: \(file.path) changed (SHA-256 \(found.sha256), the manifest says \(file.sha256))")
            }
        }
        if last.outcome == "completed", isFolder.boolValue {
            let read = Set(last.export.files.map(\.path))
            let inputs = Set(
                (last.records + last.errors).map {
                    Enricher.absolute(ManifestPath.resolved($0.path, manifest: manifestPath))
                })
            for (path, relative) in (try? ExportScanner(path: export).entries()) ?? []
            where !inputs.contains(Enricher.absolute(path)) {
                if !read.contains(relative) { exportProblems.append("export: \(relative) was added after the run") }
            }
        }
        checks.append(
            CustodyVerifier.Check(
                subject:
                    "export \(ManifestPath.absolute(root)): \(last.export.files.count) files, each as the run read it",
                discrepancies: exportProblems))
        var writtenProblems: [String] = []
        for file in last.written {
            let path = (directory as NSString).appendingPathComponent(file.path)
            guard let found = try? FileFingerprint.measure(path: path).whole else {
                writtenProblems.append("written: \(file.path) is gone")
                continue
            }
            if found != file.fingerprint {
                writtenProblems.append(
                    "written: \(file.path) was altered (SHA-256 \(found.sha256), the manifest says \(file.sha256))")
            }
        }
        checks.append(
            CustodyVerifier.Check(
                subject:
                    "written in \(ManifestPath.absolute(directory)): \(last.written.count) files, each as the run wrote it",
                discrepancies: writtenProblems))
        return checks
    }
}
