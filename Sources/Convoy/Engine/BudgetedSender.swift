/// One request through a run's shared budget: a token, then a permit, then the transfer, and the
/// answer's rate-limit headers back to the limiter.
///
/// Every API request of a run (the engine's and interval discovery's) goes through here, so no
/// path can skip the budget or forget to return a permit. The token is taken before the permit
/// because getting one may wait (a 429 from the login server), while a permit must be spent at
/// once: the limiter dates the request from its admission. A permit can take a window or a pause
/// to come, so the token is checked again once it has: one that went stale meanwhile (expired, or
/// due for renewal) is never sent; the permit is refunded and both are taken anew.
public struct BudgetedSender<C: Clock>: Sendable where C.Duration == Duration {
    /// Why a request got no answer (other than cancellation).
    public enum Failure: Error {
        /// No token could be had: wrong credentials, or the login server is down.
        case noToken(Error)
        /// The transfer failed: connection refused or reset, timeout, torn transfer.
        case transport(Error)
    }

    /// Stale tokens in a row after which a request gives up: the provider is broken.
    static var maximumStaleTokens: Int { 5 }

    public let limiter: RateLimiter<C>
    public let transport: any HTTPTransport
    public let credentials: any CredentialProvider

    public init(limiter: RateLimiter<C>, transport: any HTTPTransport, credentials: any CredentialProvider) {
        self.limiter = limiter
        self.transport = transport
        self.credentials = credentials
    }

    /// Sends `request` with the current token, when the limiter allows.
    /// - Returns: the answer, and the token it carried (for ``CredentialProvider/rejected(_:)`` on a 401).
    /// - Throws: `CancellationError` only when the calling task was cancelled, else a ``Failure``.
    public func send(_ request: HTTPRequest) async throws -> (response: HTTPResponse, token: String?) {
        var token: String?
        var permit: RateLimitPermit
        var stale = 0
        repeat {
            do {
                token = try await credentials.accessToken()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw Failure.noToken(error)
            }
            permit = try await limiter.acquire()  // throws only CancellationError
            if credentials.isFresh(token) { break }
            limiter.refund(permit)
            stale += 1
            // A token goes stale during a wait at most once or twice; a provider whose tokens are
            // stale as soon as they are issued would loop here for ever.
            if stale == Self.maximumStaleTokens {
                throw Failure.noToken(
                    ConvoyError.authentication(
                        "the credentials kept handing out tokens that had already expired (\(stale) in a row)"))
            }
        } while true
        var request = request
        if let token { request.headers["Authorization"] = "Bearer \(token)" }
        do {
            let response = try await transport.send(request)
            limiter.complete(
                permit, status: response.status,
                observation: RateLimitObservation(headers: response.headers, status: response.status))
            return (response, token)
        } catch {
            limiter.abandon(permit)
            // A transfer cancelled by anything but the caller's own cancellation is a failure to
            // retry, never a silent drop.
            if Task.isCancelled { throw CancellationError() }
            throw Failure.transport(error)
        }
    }
}
