import Foundation

/// A line of a manifest log: JSON with sorted keys, sealed and chained.
///
/// The lines of one log form a hash chain: `previous` is the SHA-256 of the line before, byte for
/// byte, so a line that is edited or removed breaks the link after it. `seal` is the SHA-256 of the
/// line itself as written with `"seal":""`, so an edit to the last line shows too. Neither stops a
/// forger who recomputes every hash: the chain proves integrity, not authorship (keep it where the
/// data is kept, under the same retention).
public protocol SealedManifest: Codable {
    /// SHA-256 of the previous line of the log, nil on the first.
    var previous: String? { get set }
    /// SHA-256 of this line written with `"seal":""`.
    var seal: String { get set }
}

extension SealedManifest {
    /// The line to write: this manifest as JSON with sorted keys (so its bytes depend only on its
    /// values), sealed.
    public func sealedLine() throws -> [UInt8] {
        var unsealed = self
        unsealed.seal = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Array(try encoder.encode(unsealed))
        let hex = SHA256.hex(SHA256.hash(line))
        let empty = Array(#""seal":"""#.utf8)
        guard let start = line.firstRange(of: empty) else { return line }
        var sealed = line
        sealed.replaceSubrange(start, with: Array(#""seal":"\#(hex)""#.utf8))
        return sealed
    }

    /// True when `line` carries the seal of its own bytes.
    public static func sealHolds(_ line: [UInt8]) -> Bool {
        // Quotes inside JSON strings are escaped, so the pattern cannot occur inside a value.
        let key = Array(#""seal":""#.utf8)
        guard let found = line.firstRange(of: key) else { return false }
        let end = found.upperBound + 64
        guard end < line.count, line[end] == UInt8(ascii: "\"") else { return false }
        var unsealed = line
        unsealed.replaceSubrange(found.lowerBound..<end + 1, with: Array(#""seal":"""#.utf8))
        return SHA256.hex(SHA256.hash(unsealed)) == String(decoding: line[found.upperBound..<end], as: UTF8.self)
    }

    /// Reads a line back.
    public static func decode(_ line: [UInt8]) throws -> Self {
        try JSONDecoder().decode(Self.self, from: Data(line))
    }

    /// The lines of a log read back, and what is wrong with them: a line that is not this kind of
    /// manifest, a broken seal, a broken link.
    public static func checkChain(_ lines: [[UInt8]]) -> (problems: [String], manifests: [Self]) {
        var problems: [String] = []
        var manifests: [Self] = []
        for (index, line) in lines.enumerated() {
            let number = index + 1
            guard let manifest = try? decode(line) else {
                problems.append("manifest line \(number) is not a Convoy manifest of this kind")
                continue
            }
            manifests.append(manifest)
            if !sealHolds(line) {
                problems.append("manifest line \(number): its seal does not match its content (the line was edited)")
            }
            let expected = index == 0 ? nil : SHA256.hex(SHA256.hash(lines[index - 1]))
            if manifest.previous != expected {
                problems.append(
                    index == 0
                        ? "manifest line 1 names a previous line that is not there (lines were removed before it)"
                        : "manifest line \(number) does not chain to line \(index) (a line was edited, removed or inserted)"
                )
            }
        }
        return (problems, manifests)
    }
}
