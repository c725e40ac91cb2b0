import Convoy
import ConvoyMock
import Foundation
import Glibc
import Testing

@Suite(.timeLimit(.minutes(1))) struct TransportTests {
    @Test func redirectsAreNotFollowedSoCredentialsStayHome() async throws {
        let elsewhere = try MockAPIServer.start(MockServerConfiguration())
        defer { elsewhere.shutdown() }
        let id = MockConversationStore.sampleIDs(count: 1)[0]
        let target = elsewhere.baseURL.appendingPathComponent("api/v2/conversations/\(id)").absoluteString
        let redirecting = try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.write(
                "HTTP/1.1 302 Found\r\nLocation: \(target)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            connection.close()
        }
        defer { redirecting.close() }

        let transports: [any HTTPTransport] = [
            URLSessionTransport(maxConnectionsPerHost: 1), SocketTransport(maxConnections: 1),
            DefaultTransport(maxConnectionsPerHost: 1),
        ]
        for transport in transports {
            let response = try await transport.send(
                HTTPRequest(
                    url: URL(string: "\(redirecting.url)/api/v2/conversations/\(id)")!,
                    headers: ["Authorization": "Bearer secret-token"]))
            #expect(response.status == 302, "the redirect itself comes back (\(type(of: transport)))")
        }
        #expect(redirecting.connections == 3)
        #expect(elsewhere.counters().requests == 0, "the bearer token never reached the other host")
    }
}
