/// Why ``MockAPIServer/start(_:)`` could not start.
public struct MockServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system call that failed, e.g. `"bind"`.
    public var operation: String
    /// The `errno` it failed with (0 when not applicable, e.g. an unparsable host).
    public var code: Int32

    /// Creates an error for `operation` failing with `errno` `code`.
    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// `"mock server: OPERATION failed (errno CODE)"`.
    public var description: String {
        code == 0 ? "mock server: \(operation) failed" : "mock server: \(operation) failed (errno \(code))"
    }
}
