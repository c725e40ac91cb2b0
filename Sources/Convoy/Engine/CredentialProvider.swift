/// Supplies the bearer token for API requests.
///
/// The engine asks before every request, so a provider can refresh its token while a run goes on,
/// and tells the provider when the API answered 401 so it can get a new one.
public protocol CredentialProvider: Sendable {
    /// The token to send as `Authorization: Bearer <token>`, or nil to send none.
    func accessToken() async throws -> String?
    /// The API rejected `token` with 401. Return true when a retry with a new token makes sense.
    func rejected(_ token: String?) async -> Bool
    /// What to tell the user when the API keeps answering 401 (never containing a secret).
    var rejectionAdvice: String { get }
    /// Whether `token`, handed out earlier, may still be sent now: false once the provider knows it
    /// expired or is due for renewal. Must not wait.
    func isFresh(_ token: String?) -> Bool
}

extension CredentialProvider {
    /// Tokens that never expire stay fresh.
    public func isFresh(_ token: String?) -> Bool { true }
}

/// A fixed token (from `--token` or `GENESYSCLOUD_ACCESS_TOKEN`), or none for the mock API.
public struct StaticCredentials: CredentialProvider {
    private let token: String?

    public init(token: String?) {
        self.token = token
    }

    public func accessToken() async throws -> String? { token }

    public func rejected(_ token: String?) async -> Bool { false }

    public var rejectionAdvice: String {
        token == nil
            ? "the API requires a token: set GENESYSCLOUD_ACCESS_TOKEN, or the OAuth client variables"
            : "the API refused the access token; check GENESYSCLOUD_ACCESS_TOKEN or --token (tokens expire)"
    }
}
