import Foundation
import Synchronization

/// Bearer tokens from the OAuth client-credentials grant, kept fresh for runs that last hours.
///
/// - A token is fetched on first use with `POST <login>/oauth/token`, `Authorization: Basic
///   base64(id:secret)` and the form body `grant_type=client_credentials`.
/// - It is used until `expiresAt − margin`, where `expiresAt = sent + expires_in` and
///   `margin = min(refreshMargin, expires_in / 10)`; then the next caller fetches a new one.
/// - Single flight: however many requests need a token at once, at most one token request is in
///   the air; the others await its result.
/// - A 429 from the token endpoint waits its `Retry-After` (1 s when absent) and tries again, as do
///   5xx answers and network errors (with backoff), up to `maxAttempts`.
/// - A 400 or 401 from the token endpoint means the credentials are wrong: it fails at once with a
///   message naming the environment variables, and never shows the secret.
/// - After the API answers 401, ``rejected(_:)`` drops the token so the next request gets a new one,
///   once; a token fetched for that reason and rejected again soon after means the API will not
///   accept this client, and the run stops.
public final class OAuthClientCredentials<C: Clock>: CredentialProvider where C.Duration == Duration {
    private struct Token {
        let value: String
        let expiresAt: C.Instant
        let issuedAt: C.Instant
        let lifetime: Duration
        let replacedARejection: Bool
    }

    private struct State {
        var token: Token?
        var pending: Task<Token, Error>?
        var nextReplacesARejection = false
        var tokenRequests = 0
    }

    private let credentials: ClientCredentials
    private let tokenURL: URL
    private let transport: any HTTPTransport
    private let clock: C
    private let refreshMargin: Duration
    private let maxAttempts: Int
    private let state = Mutex(State())

    /// - Parameters:
    ///   - loginBase: `https://login.<region host>`, or the mock API's base URL.
    ///   - refreshMargin: renew this long before expiry at most (default 60 s).
    public init(
        credentials: ClientCredentials, loginBase: URL, transport: any HTTPTransport, clock: C,
        refreshMargin: Duration = .seconds(60), maxAttempts: Int = 10
    ) {
        self.credentials = credentials
        self.tokenURL = loginBase.appendingPathComponent("oauth/token")
        self.transport = transport
        self.clock = clock
        self.refreshMargin = refreshMargin
        self.maxAttempts = maxAttempts
    }

    /// Token requests made so far (each attempt counts).
    public var tokenRequests: Int { state.withLock { $0.tokenRequests } }

    /// A token at hand, or the token request to wait for.
    private enum Next {
        case ready(String)
        case wait(Task<Token, Error>)
    }

    public func accessToken() async throws -> String? {
        let next: Next = state.withLock { state in
            if let token = state.token, clock.now < token.expiresAt - margin(for: token.lifetime) {
                return .ready(token.value)
            }
            if let pending = state.pending { return .wait(pending) }
            let replacing = state.nextReplacesARejection
            state.nextReplacesARejection = false
            let pending = Task { try await self.fetchAndStore(replacingARejection: replacing) }
            state.pending = pending
            return .wait(pending)
        }
        switch next {
        case .ready(let value):
            return value
        case .wait(let task):
            do {
                // A waiter's cancellation stops the shared fetch (in a run, every cancellation is the
                // run's own: Ctrl-C)...
                return try await withTaskCancellationHandler {
                    try await task.value.value
                } onCancel: {
                    task.cancel()
                }
            } catch is CancellationError where !Task.isCancelled {
                // ...and a waiter that was not cancelled itself starts a fresh fetch.
                return try await accessToken()
            }
        }
    }

    /// Fetches a token and stores it, once, under the lock, so no slow waiter can put back a
    /// token that ``rejected(_:)`` has dropped since.
    private func fetchAndStore(replacingARejection: Bool) async throws -> Token {
        do {
            let token = try await fetch(replacingARejection: replacingARejection)
            state.withLock { state in
                state.pending = nil
                state.token = token
            }
            return token
        } catch {
            state.withLock { $0.pending = nil }
            throw error
        }
    }

    public func isFresh(_ token: String?) -> Bool {
        state.withLock { state in
            guard let current = state.token, current.value == token else { return false }
            return clock.now < current.expiresAt - margin(for: current.lifetime)
        }
    }

    public func rejected(_ token: String?) async -> Bool {
        state.withLock { state in
            guard let current = state.token, current.value == token else {
                return true  // already replaced: retry with the newer token
            }
            let age = clock.now - current.issuedAt
            if current.replacedARejection, age < min(.seconds(30), current.lifetime / 2) {
                return false
            }
            state.token = nil
            state.nextReplacesARejection = true
            return true
        }
    }

    public var rejectionAdvice: String {
        "the API refused a freshly issued token; check that the OAuth client's role grants "
            + "conversation:communication:view (and analytics or recording permissions for --include)"
    }

    private func margin(for lifetime: Duration) -> Duration {
        min(refreshMargin, lifetime / 10)
    }

    private func fetch(replacingARejection: Bool) async throws -> Token {
        let basic = Data("\(credentials.clientID):\(credentials.clientSecret)".utf8).base64EncodedString()
        let request = HTTPRequest(
            method: "POST", url: tokenURL,
            headers: [
                "Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            ],
            body: Data("grant_type=client_credentials".utf8))
        var generator = SystemRandomNumberGenerator()
        let backoff = Backoff(base: .milliseconds(500), cap: .seconds(30))
        var lastProblem = ""
        for attempt in 1...maxAttempts {
            try Task.checkCancellation()
            state.withLock { $0.tokenRequests += 1 }
            let sent = clock.now
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch is CancellationError {
                throw CancellationError()
            } catch SocketTransportError.tlsRefused(let reason) {
                throw ConvoyError.tlsRefused(host: tokenURL.host ?? "the login server", reason: reason)
            } catch {
                let reason = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                lastProblem = "the login server could not be reached (\(reason.prefix(200)))"
                try await clock.sleep(for: backoff.delay(forRetry: attempt, using: &generator))
                continue
            }
            switch response.status {
            case 200..<300:
                guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                    let value = object["access_token"] as? String, !value.isEmpty
                else {
                    throw ConvoyError.authentication("the login server's answer holds no access_token")
                }
                let seconds = (object["expires_in"] as? NSNumber)?.doubleValue ?? 3600
                let lifetime = Duration.seconds(max(1, seconds))
                return Token(
                    value: value, expiresAt: sent + lifetime, issuedAt: sent, lifetime: lifetime,
                    replacedARejection: replacingARejection)
            case 300..<400:
                throw ConvoyError.authentication(
                    "the login server answered HTTP \(response.status) (a redirect, not followed with credentials); "
                        + "check --region or --login-base")
            case 400, 401, 403:
                throw ConvoyError.authentication(
                    "the login server refused the client credentials (HTTP \(response.status)"
                        + "\(Self.oauthError(response.body))); check \(ClientCredentials.idVariable) and "
                        + "\(ClientCredentials.secretVariable), and that the OAuth client uses the client-credentials "
                        + "grant in this region")
            case 429:
                lastProblem = "the login server kept answering 429"
                let retryAfter = RateLimitObservation(headers: response.headers, status: 429).retryAfter ?? .seconds(1)
                try await clock.sleep(until: sent + min(retryAfter, .seconds(900)), tolerance: nil)
            default:
                lastProblem = "the login server answered HTTP \(response.status)"
                try await clock.sleep(for: backoff.delay(forRetry: attempt, using: &generator))
            }
        }
        throw ConvoyError.authentication("could not get an access token: \(lastProblem) (\(maxAttempts) attempts)")
    }

    /// `": invalid_client"` from an OAuth error body, or empty.
    private static func oauthError(_ body: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let error = object["error"] as? String
        else { return "" }
        return ": " + String(error.prefix(60))
    }
}
