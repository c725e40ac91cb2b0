import Foundation
import Testing

@testable import Convoy

@Suite(.timeLimit(.minutes(1))) struct TLSTransportTests {
    let document = #"{"id":"8d0a1e52-7c1b-4f8e-9c43-2b1f0f6a9e11","legalHold":true}"#

    private func failure(_ transport: SocketTransport, _ url: String) async -> SocketTransportError? {
        do {
            _ = try await transport.send(HTTPRequest(url: URL(string: url)!))
            return nil
        } catch {
            return error as? SocketTransportError
        }
    }

    @Test func theSystemLibsslIsFound() {
        #expect(SocketTransport.supportsTLS, "libssl.so.3 (or 1.1) opens on this machine")
    }

    @Test func aServerTrustedThroughABundleAnswersByNameAndByAddress() async throws {
        let server = try OpenSSLServer(serving: ["record.json": document])
        defer { server.stop() }
        let transport = SocketTransport(maxConnections: 2, trustedCertificates: server.certificate)
        for host in ["localhost", "127.0.0.1"] {
            let response = try await transport.send(
                HTTPRequest(url: URL(string: "https://\(host):\(server.port)/record.json")!))
            #expect(response.status == 200)
            #expect(response.body == Data(document.utf8), "the exact bytes, through TLS, ended by the close")
        }
    }

    @Test func aSelfSignedServerIsRefusedAgainstTheSystemTrustStoreSayingWhy() async throws {
        let server = try OpenSSLServer(serving: ["record.json": document])
        defer { server.stop() }
        let transport = SocketTransport(maxConnections: 1)
        let error = await failure(transport, "https://localhost:\(server.port)/record.json")
        guard case .tlsRefused(let reason) = error else {
            Issue.record("expected a TLS refusal, got \(String(describing: error))")
            return
        }
        #expect(reason.hasPrefix("the server's certificate was refused: "))
        #expect(reason.contains("self-signed") || reason.contains("self signed"), "\(reason)")
    }

    @Test func aCertificateForAnotherNameIsRefused() async throws {
        let server = try OpenSSLServer(serving: ["record.json": document])
        defer { server.stop() }
        let transport = SocketTransport(maxConnections: 1, trustedCertificates: server.certificate)
        // 127.0.0.2 reaches the same loopback server, but the certificate names 127.0.0.1 only.
        let error = await failure(transport, "https://127.0.0.2:\(server.port)/record.json")
        guard case .tlsRefused(let reason) = error else {
            Issue.record("expected a TLS refusal, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("mismatch"), "\(reason)")
    }

    @Test func aBundleThatCannotBeReadFailsEachRequestNamingIt() async throws {
        let transport = SocketTransport(maxConnections: 1, trustedCertificates: "/nonexistent/ca.pem")
        let error = await failure(transport, "https://localhost:1/record.json")
        guard case .tlsRefused(let reason) = error else {
            Issue.record("expected a TLS set-up failure, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("/nonexistent/ca.pem"))
    }

    @Test func aPlainHTTPServerSpokenToOverTLSFailsTheHandshake() async throws {
        // What a plain HTTP server makes of a ClientHello: 400, and the connection closed.
        let server = try ScriptedServer { connection in
            _ = connection.readSome()
            connection.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1, timeout: .seconds(5))
        let error = await failure(transport, "https://127.0.0.1:\(server.port)/api/v2/conversations/x")
        guard case .tlsRefused(let reason) = error else {
            Issue.record("expected a handshake failure, got \(String(describing: error))")
            return
        }
        #expect(reason.hasPrefix("the handshake failed: "), "\(reason)")
    }

    @Test func proxySettingsSendEverySchemeTheyNameThroughURLSession() {
        #expect(DefaultTransport.socketSchemes(environment: [:], tls: true) == ["http", "https"])
        #expect(DefaultTransport.socketSchemes(environment: [:], tls: false) == ["http"])
        #expect(
            DefaultTransport.socketSchemes(environment: ["HTTPS_PROXY": "http://proxy:3128"], tls: true) == ["http"])
        #expect(
            DefaultTransport.socketSchemes(environment: ["http_proxy": "http://proxy:3128"], tls: true) == ["https"])
        #expect(DefaultTransport.socketSchemes(environment: ["ALL_PROXY": "socks5://proxy"], tls: true) == [])
        #expect(DefaultTransport.socketSchemes(environment: ["CONVOY_TRANSPORT": "urlsession"], tls: true) == [])
    }
}
