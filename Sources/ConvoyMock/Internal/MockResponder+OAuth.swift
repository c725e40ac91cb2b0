import Foundation

/// OAuth client credentials: the token endpoint and bearer-token parsing.
extension MockResponder {
    /// `POST /oauth/token` (only routed when ``MockServerConfiguration/oauth`` is set); see ``MockOAuth`` for the
    /// answers. Issues a 256-bit random token from the system generator, valid for ``MockOAuth/tokenLifetime`` from
    /// `now`.
    func tokenReply(to request: HTTPRequest, now: UInt64, contextID: String) -> Reply {
        guard let oauth = configuration.oauth else { preconditionFailure("the token route needs OAuth settings") }
        guard request.method == "POST" else {
            return Self.failure(
                EndpointError(
                    status: 405, code: "method.not.allowed",
                    message: "Method \(request.method) is not allowed on this resource"), contextID: contextID)
        }
        guard let credentials = Self.basicCredentials(request.authorization),
            (credentials.id == oauth.clientId && credentials.secret == oauth.clientSecret)
                || oauth.otherClients[credentials.id] == credentials.secret
        else {
            return Self.oauthError(
                status: 401, [("error", "invalid_client"), ("description", "authentication failed")])
        }
        let mediaType = request.contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard mediaType?.lowercased() == "application/x-www-form-urlencoded" else {
            return Self.oauthError(
                status: 400,
                [
                    ("error", "invalid_request"),
                    ("description", "Content-Type must be application/x-www-form-urlencoded"),
                ])
        }
        let form = QueryString.pairs(String(decoding: request.body, as: UTF8.self))
        guard QueryString.value("grant_type", in: form) == "client_credentials" else {
            return Self.oauthError(status: 400, [("error", "unsupported_grant_type")])
        }

        var generator = SystemRandomNumberGenerator()
        let token = Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        state.issue(token: token, client: credentials.id, lifetime: oauth.tokenLifetime, now: now)
        // Exactly the lifetime, so a client that renews early is never surprised by a 401.
        let nanoseconds = max(0, oauth.tokenLifetime.clampedNanoseconds)
        let expiresIn: JSONValue =
            nanoseconds % 1_000_000_000 == 0
            ? .int(Int(nanoseconds / 1_000_000_000)) : .double(Double(nanoseconds) / 1e9)
        return Reply(
            status: 200,
            body: JSONValue.object([
                ("access_token", .string(token)), ("token_type", "bearer"), ("expires_in", expiresIn),
            ]).compactBytes())
    }

    /// The token of `Authorization: Bearer TOKEN` (scheme case-insensitive); `nil` without one.
    static func bearerToken(_ authorization: String?) -> Substring? {
        guard let authorization, let space = authorization.firstIndex(of: " "),
            authorization[..<space].lowercased() == "bearer"
        else { return nil }
        let token = authorization[authorization.index(after: space)...].drop { $0 == " " }
        return token.isEmpty ? nil : token
    }

    /// The client id and secret of `Authorization: Basic base64(id:secret)` (scheme case-insensitive).
    static func basicCredentials(_ authorization: String?) -> (id: String, secret: String)? {
        guard let authorization, let space = authorization.firstIndex(of: " "),
            authorization[..<space].lowercased() == "basic",
            let data = Data(
                base64Encoded: authorization[authorization.index(after: space)...].trimmingCharacters(
                    in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// An RFC 6749 error body (`{"error":…,"description":…}`).
    private static func oauthError(status: Int, _ members: [(key: String, value: JSONValue)]) -> Reply {
        Reply(status: status, body: JSONValue.object(members).compactBytes())
    }
}
