import Convoy
import ConvoyMock
import Foundation
import Glibc
import Testing

/// A one-shot loopback server that answers every request with a redirect to `location`.
final class RedirectingServer: @unchecked Sendable {
    // The descriptor is written once in init and read by the accept thread; close() ends it.
    let port: UInt16
    private let listener: Int32

    init(location: String) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(descriptor, raw, length) == 0 && listen(descriptor, 8) == 0
                    && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else { throw ConvoyError.configuration("cannot listen on 127.0.0.1") }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let listener = descriptor
        let answer = Array(
            "HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        Thread.detachNewThread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                shutdown(connection, Int32(SHUT_RDWR))
                Glibc.close(connection)
            }
        }
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }
}

@Suite(.timeLimit(.minutes(1))) struct TransportTests {
    @Test func redirectsAreNotFollowedSoCredentialsStayHome() async throws {
        let elsewhere = try MockAPIServer.start(MockServerConfiguration())
        defer { elsewhere.shutdown() }
        let id = MockConversationStore.sampleIDs(count: 1)[0]
        let target = elsewhere.baseURL.appendingPathComponent("api/v2/conversations/\(id)").absoluteString
        let redirecting = try RedirectingServer(location: target)
        defer { redirecting.close() }

        let transport = URLSessionTransport(maxConnectionsPerHost: 1)
        let response = try await transport.send(
            HTTPRequest(
                url: URL(string: "http://127.0.0.1:\(redirecting.port)/api/v2/conversations/\(id)")!,
                headers: ["Authorization": "Bearer secret-token"]))
        #expect(response.status == 302, "the redirect itself comes back")
        #expect(elsewhere.counters().requests == 0, "the bearer token never reached the other host")
    }
}
