import ConvoyMock
import Foundation
import Testing

@testable import Convoy

/// Seeded fuzzing of `HTTPResponseDecoder`: generated answers, the same answers mutated, and
/// random bytes, each fed in random pieces. Whatever the bytes, the decoder must not crash, must
/// end (every input is finite and each step consumes or asks for more), must keep within its
/// limits, and must either decode exactly what the reference parse below says or fail.
@Suite(.timeLimit(.minutes(2))) struct HTTPResponseDecoderFuzzTests {
    /// Small limits, so that the fuzz reaches them often.
    static let limits = HTTPLimits(
        maxResponseBytes: 600, maxHeadBytes: 400, maxHeaderFields: 12, maxInterimResponses: 3)

    struct Decoded: Equatable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        /// Bytes of the input the answer took (the rest is unread).
        var consumed: Int
    }

    // MARK: - Feeding

    /// Feeds `bytes` in pieces cut at random points, decoding after each, then the close.
    static func decode(_ bytes: [UInt8], method: String, using random: inout SplitMix64) -> Decoded? {
        var decoder = HTTPResponseDecoder(limits: limits, bufferSize: 32)
        decoder.begin(method: method)
        var offset = 0
        do {
            while offset < bytes.count {
                let size = Int.random(in: 1...max(1, min(bytes.count - offset, 97)), using: &random)
                try decoder.append(bytes[offset..<(offset + size)])
                offset += size
                if let response = try decoder.decode() {
                    return Decoded(response, consumed: offset - decoder.unreadBytes)
                }
            }
            let response = try decoder.finish()
            return Decoded(response, consumed: bytes.count - decoder.unreadBytes)
        } catch {
            return nil
        }
    }

    // MARK: - The reference: a whole-buffer parse of the same grammar, written apart

    /// Parses `bytes` as a complete stream that the server then closed.
    static func reference(_ bytes: [UInt8], method: String) -> Decoded? {
        var position = 0
        /// The next line (without CRLF or LF), or nil at the end of the input.
        func line(limit: Int) -> [UInt8]? {
            guard let lf = bytes[position...].firstIndex(of: 10), lf - position <= limit else { return nil }
            var text = Array(bytes[position..<lf])
            if text.last == 13 { text.removeLast() }
            position = lf + 1
            return text
        }
        var interim = 0
        while true {
            let headStart = position
            var lines: [[UInt8]] = []
            while true {
                // Every line end of a head lies within `maxHeadBytes` of its start.
                guard let next = line(limit: limits.maxHeadBytes - (position - headStart)) else { return nil }
                if next.isEmpty { break }
                lines.append(next)
            }
            guard let statusText = lines.first else { return nil }
            // HTTP/1.<digit> SP <3 digits> [SP ...]
            let status = String(decoding: statusText, as: UTF8.self)
            let pieces = status.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard pieces.count >= 2, pieces[0].count == 8, pieces[0].hasPrefix("HTTP/1."),
                let minor = pieces[0].last?.wholeNumberValue, pieces[0].last!.isASCII,
                pieces[1].count == 3, pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }), let code = Int(pieces[1]),
                code >= 100, !statusText.contains(0), !statusText.contains(13)
            else { return nil }
            var fields: [(String, String)] = []
            for fieldLine in lines.dropFirst() {
                guard !fieldLine.contains(0), !fieldLine.contains(13) else { return nil }
                let text = String(decoding: fieldLine, as: UTF8.self)
                if fieldLine.first == 32 || fieldLine.first == 9 {
                    guard let last = fields.popLast() else { return nil }
                    fields.append((last.0, last.1 + " " + text.trimmingCharacters(in: [" ", "\t"])))
                    continue
                }
                guard let colon = text.firstIndex(of: ":") else { return nil }
                let name = text[..<colon]
                let tokenSymbols = "!#$%&'*+-.^_`|~"
                guard !name.isEmpty,
                    name.unicodeScalars.allSatisfy({
                        $0.isASCII
                            && (CharacterSet.alphanumerics.contains($0) || tokenSymbols.unicodeScalars.contains($0))
                    })
                else { return nil }
                fields.append(
                    (String(name), String(text[text.index(after: colon)...]).trimmingCharacters(in: [" ", "\t"])))
                guard fields.count <= limits.maxHeaderFields else { return nil }
            }
            if code == 101 { return nil }
            if code < 200 {
                interim += 1
                guard interim <= limits.maxInterimResponses else { return nil }
                continue
            }
            let headers = HTTPHeaders(fields)
            if method == "HEAD" || code == 204 || code == 304 {
                return Decoded(status: code, headers: headers, body: [], consumed: position)
            }
            func items(_ value: String) -> [String] {
                value.components(separatedBy: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
            if let coding = headers["transfer-encoding"] {
                guard minor > 0, items(coding.lowercased()) == ["chunked"] else { return nil }
                var body: [UInt8] = []
                while true {
                    guard let sizeLine = line(limit: HTTPResponseDecoder.maximumLineBytes - 1) else { return nil }
                    let digits = sizeLine.prefix {
                        (48...57).contains($0) || (65...70).contains($0) || (97...102).contains($0)
                    }
                    let after = sizeLine.dropFirst(digits.count).drop { $0 == 32 || $0 == 9 }
                    guard !digits.isEmpty, after.isEmpty || after.first == 59 else { return nil }
                    let significant = digits.drop { $0 == 48 }
                    guard significant.count <= 8,
                        let size = Int(
                            String(decoding: significant.isEmpty ? [48] : Array(significant), as: UTF8.self), radix: 16),
                        body.count + size <= limits.maxResponseBytes
                    else { return nil }
                    if size == 0 { break }
                    guard position + size <= bytes.count else { return nil }
                    body += bytes[position..<(position + size)]
                    position += size
                    guard line(limit: HTTPResponseDecoder.maximumLineBytes - 1)?.isEmpty == true else { return nil }
                }
                var trailer = 0
                while true {
                    guard let trailerLine = line(limit: HTTPResponseDecoder.maximumLineBytes - 1) else { return nil }
                    if trailerLine.isEmpty { break }
                    trailer += trailerLine.count + 2
                    guard trailer <= limits.maxHeadBytes else { return nil }
                }
                return Decoded(status: code, headers: headers, body: body, consumed: position)
            }
            if let lengthText = headers["content-length"] {
                let copies = Set(items(lengthText))
                guard copies.count == 1, let copy = copies.first, !copy.isEmpty,
                    copy.allSatisfy({ $0.isASCII && $0.isNumber })
                else { return nil }
                let significant = copy.drop { $0 == "0" }
                guard significant.count <= 8, let length = Int(significant.isEmpty ? "0" : String(significant)),
                    length <= limits.maxResponseBytes, position + length <= bytes.count
                else { return nil }
                return Decoded(
                    status: code, headers: headers, body: Array(bytes[position..<(position + length)]),
                    consumed: position + length)
            }
            guard bytes.count - position <= limits.maxResponseBytes else { return nil }
            return Decoded(status: code, headers: headers, body: Array(bytes[position...]), consumed: bytes.count)
        }
    }

    // MARK: - Inputs

    /// A well-formed answer, in one of the framings and lenient forms, with the decode it must give.
    static func generated(using random: inout SplitMix64) -> (bytes: [UInt8], method: String, expected: Decoded) {
        let method = Int.random(in: 0..<10, using: &random) == 0 ? "HEAD" : "GET"
        let status = [200, 200, 201, 204, 304, 404, 429, 500, 503].randomElement(using: &random)!
        func end() -> String { Bool.random(using: &random) ? "\r\n" : "\n" }
        var text = ""
        for _ in 0..<Int.random(in: 0...2, using: &random) { text += "HTTP/1.1 100 Continue" + end() + end() }
        text += "HTTP/1.1 \(status)" + (Bool.random(using: &random) ? " Reason Phrase" : "") + end()
        var fields: [(String, String)] = []
        for index in 0..<Int.random(in: 0...5, using: &random) {
            let value = String(
                (0..<Int.random(in: 0...20, using: &random)).map { _ in
                    Character(Unicode.Scalar(UInt8.random(in: 33...126, using: &random)))
                })
            fields.append(("X-Field-\(index)", value))
        }
        var expectedFields: [(String, String)] = []
        let body = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let framing = Int.random(in: 0..<3, using: &random)
        for (name, value) in fields {
            if Int.random(in: 0..<6, using: &random) == 0, !value.isEmpty {
                // obs-fold: the value continued on the next line
                let cut = value.index(value.startIndex, offsetBy: value.count / 2)
                text += "\(name): \(value[..<cut])" + end() + " \t" + value[cut...] + end()
                expectedFields.append((name, value[..<cut] + " " + value[cut...]))
                continue
            }
            text += "\(name):" + (Bool.random(using: &random) ? " " : "") + value + end()
            expectedFields.append((name, value))
        }
        var encodedBody: [UInt8] = []
        let hasBody = method != "HEAD" && status != 204 && status != 304
        switch framing {
        case 0:
            text += "Content-Length: \(body.count)" + end()
            encodedBody = body
        case 1:
            text += "Transfer-Encoding: chunked" + end()
            var rest = body[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...rest.count, using: &random)
                let ext = Bool.random(using: &random) ? "" : " ;name=value"
                encodedBody += Array(
                    (String(size, radix: 16, uppercase: Bool.random(using: &random)) + ext + end()).utf8)
                encodedBody += rest.prefix(size)
                encodedBody += Array(end().utf8)
                rest = rest.dropFirst(size)
            }
            encodedBody += Array(("0" + end() + (Bool.random(using: &random) ? "Trailer: x" + end() : "") + end()).utf8)
        default:
            encodedBody = body  // to the close
        }
        text += end()
        var bytes = Array(text.utf8)
        if hasBody { bytes += encodedBody }
        if framing == 0 { expectedFields.append(("Content-Length", "\(body.count)")) }
        if framing == 1 { expectedFields.append(("Transfer-Encoding", "chunked")) }
        let expected = Decoded(
            status: status, headers: HTTPHeaders(expectedFields), body: hasBody ? body : [], consumed: bytes.count)
        return (bytes, method, expected)
    }

    /// `bytes` with a few random edits: flipped, inserted, deleted or repeated bytes, or a framing
    /// number swapped for a huge one.
    static func mutated(_ bytes: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0 where at < bytes.count: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes.insert([10, 13, 32, 58, 48, 59, 0, 102].randomElement(using: &random)!, at: at)
            case 2 where at < bytes.count:
                bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &random)))
            case 3 where at < bytes.count:
                let piece = bytes[at..<min(bytes.count, at + Int.random(in: 1...40, using: &random))]
                bytes.insert(contentsOf: piece, at: at)
            case 4:
                bytes.insert(
                    contentsOf: Array(
                        ["9223372036854775807", "7fffffffffffffff", "-1", "+5"].randomElement(using: &random)!.utf8),
                    at: at)
            default: bytes.insert(contentsOf: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), at: at)
            }
        }
        return bytes
    }

    // MARK: - Tests

    @Test func generatedAnswersDecodeExactlyWhereverTheyAreSplit() {
        var random = SplitMix64(seed: 0x5eed_0001)
        for _ in 0..<4000 {
            let (bytes, method, expected) = Self.generated(using: &random)
            let decoded = Self.decode(bytes, method: method, using: &random)
            #expect(decoded == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            #expect(Self.reference(bytes, method: method) == expected, "the reference agrees with the generator")
            if decoded != expected { return }
        }
    }

    @Test func mutatedAndRandomBytesDecodeAsTheReferenceSaysOrFail() {
        var random = SplitMix64(seed: 0x5eed_0002)
        var decodedCount = 0
        var failedCount = 0
        for round in 0..<8000 {
            let bytes: [UInt8]
            let method: String
            if round % 4 == 3 {
                method = "GET"
                let printable = Bool.random(using: &random)
                bytes = (0..<Int.random(in: 0...400, using: &random)).map { _ in
                    printable
                        ? [UInt8](Array("HTTP/1.1 200\r\n: \n0123456789abcdef;".utf8)).randomElement(using: &random)!
                        : UInt8.random(in: 0...255, using: &random)
                }
            } else {
                let (valid, validMethod, _) = Self.generated(using: &random)
                bytes = Self.mutated(valid, using: &random)
                method = validMethod
            }
            guard let decoded = Self.decode(bytes, method: method, using: &random) else {
                failedCount += 1
                continue
            }
            decodedCount += 1
            #expect(decoded.body.count <= Self.limits.maxResponseBytes)
            let expected = Self.reference(bytes, method: method)
            #expect(decoded == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            if decoded != expected { return }
        }
        // The mix must exercise both outcomes, or the fuzz proves little.
        #expect(decodedCount > 1000)
        #expect(failedCount > 1000)
    }
}

extension HTTPResponseDecoderFuzzTests.Decoded {
    init(_ response: HTTPResponse, consumed: Int) {
        self.init(status: response.status, headers: response.headers, body: Array(response.body), consumed: consumed)
    }
}
