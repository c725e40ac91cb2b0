import Convoy
import ConvoyMock
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct CustodyTests {
    static func manifest(fetched: Int) -> RunManifest {
        var summary = FetchSummary()
        summary.fetched = fetched
        return RunManifest(
            tool: "convoy test", command: ["convoy", "fetch", "ids \"quoted\".txt"], apiBase: "http://127.0.0.1:1",
            oauthClientId: nil, startedAt: "2026-11-25T00:00:00.000Z", endedAt: "2026-11-25T00:00:01.000Z",
            outcome: .completed, resumable: true, input: .init(source: "ids.txt"), counts: .init(summary), limit: nil)
    }

    @Test func prefixesAcrossBlockBoundariesMatchTheirOwnHashes() throws {
        let folder = try TemporaryDirectory()
        var random = SplitMix64(seed: 5)
        let bytes = (0..<(2 << 20) + 777).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let path = folder.file("data")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let cuts: Set<Int64> = [
            0, 1, 1 << 20 - 1, 1 << 20, 1 << 20 + 1, 2 << 20, Int64(bytes.count), Int64(bytes.count) + 1,
        ]
        let measured = try FileFingerprint.measure(path: path, prefixes: cuts)
        #expect(measured.whole.sha256 == SHA256.hex(SHA256.hash(bytes)))
        #expect(measured.whole.bytes == Int64(bytes.count))
        #expect(measured.whole.lines == bytes.filter { $0 == 10 }.count)
        for cut in cuts where cut <= bytes.count {
            let prefix = bytes[..<Int(cut)]
            #expect(
                measured.prefixes[cut]
                    == FileFingerprint(
                        sha256: SHA256.hex(SHA256.hash(prefix)), bytes: cut, lines: prefix.filter { $0 == 10 }.count))
        }
        #expect(measured.prefixes[Int64(bytes.count) + 1] == nil, "a prefix longer than the file is not there")
    }

    @Test func aSealedLineReadsBackAndAnyEditBreaksTheSeal() throws {
        let line = try Self.manifest(fetched: 3).sealedLine()
        #expect(RunManifest.sealHolds(line))
        #expect(try RunManifest.decode(line).counts.fetched == 3)
        let text = String(decoding: line, as: UTF8.self)
        #expect(
            !RunManifest.sealHolds(Array(text.replacingOccurrences(of: #""fetched":3"#, with: #""fetched":4"#).utf8)))
        #expect(!RunManifest.sealHolds(Array(text.replacingOccurrences(of: #""seal":""#, with: #""seal":"0"#).utf8)))
    }

    @Test func eachLineChainsToTheOneBefore() throws {
        let folder = try TemporaryDirectory()
        let log = ManifestLog(path: folder.file("m.ndjson"))
        let first = try log.append(Self.manifest(fetched: 1))
        let second = try log.append(Self.manifest(fetched: 2))
        let lines = try log.lines()
        #expect(lines == [first, second])
        #expect(try RunManifest.decode(first).previous == nil)
        #expect(try RunManifest.decode(second).previous == SHA256.hex(SHA256.hash(first)))
        #expect(try log.last()?.manifest.counts.fetched == 2)
    }

    @Test func correlationIDsComeFromTheFirstHeaderPresent() {
        #expect(Provenance.correlationID(in: ["inin-correlation-id": "a", "X-Request-Id": "b"]) == "a")
        #expect(Provenance.correlationID(in: ["x-request-id": "b", "X-Correlation-Id": "c"]) == "b")
        #expect(Provenance.correlationID(in: ["X-Correlation-Id": "c"]) == "c")
        #expect(Provenance.correlationID(in: ["X-Correlation-Id": ""]) == nil)
    }
}
