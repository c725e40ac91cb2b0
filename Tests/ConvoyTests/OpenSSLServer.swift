import Convoy
import Foundation

/// `openssl s_server -WWW` on a fresh self-signed certificate for `localhost` and `127.0.0.1`:
/// a TLS server nobody here wrote, answering `GET /file` with the file, HTTP/1.0, then closing.
final class OpenSSLServer: Sendable {
    let port: Int
    let certificate: String
    let folder: String
    private let process: Process

    init(serving files: [String: String]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("convoy-tls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        certificate = folder + "/cert.pem"
        try Self.run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            folder + "/key.pem", "-out", certificate, "-subj", "/CN=localhost", "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2",
        ])
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_server", "-accept", "0", "-cert", certificate, "-key", folder + "/key.pem", "-WWW",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // It prints "ACCEPT [::]:PORT" once it listens.
        var seen = ""
        while !seen.contains("\n") || !seen.contains("ACCEPT") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ConvoyError.configuration("openssl s_server did not start: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        let line = seen.split(separator: "\n").first { $0.hasPrefix("ACCEPT") } ?? ""
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw ConvoyError.configuration("openssl s_server printed \(seen)")
        }
        self.port = port
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ConvoyError.configuration("openssl \(arguments[0]) failed (\(process.terminationStatus))")
        }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)  // s_server does not always end on SIGTERM
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
