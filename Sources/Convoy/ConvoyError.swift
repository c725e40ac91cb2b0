/// An error Convoy reports to the user: what went wrong, in words that say what to do.
///
/// A struct over a private code, so new kinds can be added without breaking callers.
public struct ConvoyError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case usage, input, output, outputClosed, authentication, configuration
    }

    private let code: Code
    /// The message shown to the user. Never contains a secret.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Bad command-line arguments (exit status 64).
    public static func usage(_ message: String) -> ConvoyError { ConvoyError(.usage, message) }
    /// The id input cannot be read.
    public static func input(_ message: String) -> ConvoyError { ConvoyError(.input, message) }
    /// An output file cannot be created, read back or written.
    public static func output(_ message: String) -> ConvoyError { ConvoyError(.output, message) }
    /// The reader of a streamed output went away (EPIPE): the run stops, nothing more can be delivered.
    public static func outputClosed(_ message: String) -> ConvoyError { ConvoyError(.outputClosed, message) }
    /// The server refused the credentials.
    public static func authentication(_ message: String) -> ConvoyError { ConvoyError(.authentication, message) }
    /// A setting is missing or contradictory.
    public static func configuration(_ message: String) -> ConvoyError { ConvoyError(.configuration, message) }

    /// TLS to `host` was refused (`reason`): no request to it can pass until the trust store or the
    /// server changes, so the run stops and says how to trust a private CA.
    public static func tlsRefused(host: String, reason: String) -> ConvoyError {
        ConvoyError(
            .configuration,
            "TLS to \(host) failed: \(reason). Convoy verifies servers against the system's trust store; behind a "
                + "private CA or a TLS-inspecting proxy, point SSL_CERT_FILE at its PEM bundle (or SSL_CERT_DIR at a "
                + "folder of hashed certificates) and run again. Nothing was recorded for the ids in flight, so the "
                + "re-run fetches them")
    }

    /// True for usage errors, which exit with status 64.
    public var isUsage: Bool { code == .usage }
    /// True when a streamed output's reader went away.
    public var isOutputClosed: Bool { code == .outputClosed }

    public var description: String { message }
}
