import ConvoyMock

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
