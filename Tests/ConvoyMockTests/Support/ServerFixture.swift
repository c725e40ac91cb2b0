import ConvoyMock
import Foundation

/// Starts a server for the duration of `body` and always shuts it down.
@discardableResult
func withServer<T>(
    _ configuration: MockServerConfiguration = MockServerConfiguration(), _ body: (MockAPIServer) throws -> T
)
    throws -> T
{
    let server = try MockAPIServer.start(configuration)
    defer { server.shutdown() }
    return try body(server)
}

/// The conversation path of `id`.
func conversationPath(_ id: String) -> String {
    "/api/v2/conversations/\(id)"
}

/// `Basic base64(id:secret)`.
func basicAuthorization(_ id: String, _ secret: String) -> String {
    "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
}

/// The headers of a well-formed client-credentials token request.
func tokenRequestHeaders(_ id: String, _ secret: String) -> [String: String] {
    ["Authorization": basicAuthorization(id, secret), "Content-Type": "application/x-www-form-urlencoded"]
}

/// Fetches an access token from the server's token endpoint.
func fetchToken(_ client: LoopbackClient, id: String, secret: String) throws -> String {
    let response = try client.post(
        "/oauth/token", headers: tokenRequestHeaders(id, secret), body: "grant_type=client_credentials")
    guard response.status == 200, let token = try response.jsonObject()["access_token"] as? String else {
        throw LoopbackClientError(description: "token request failed: \(response.status) \(response.bodyText)")
    }
    return token
}

/// `Authorization: Bearer TOKEN`.
func bearer(_ token: String) -> [String: String] {
    ["Authorization": "Bearer \(token)"]
}

/// Polls `condition` every millisecond until it holds. The bound only keeps a broken server from hanging the test;
/// nothing depends on how long the wait takes.
func waitUntil(bound: Duration = .seconds(10), _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + bound
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            throw LoopbackClientError(description: "condition still false after \(bound)")
        }
        usleep(1_000)
    }
}
