import Convoy
import ConvoyLoad

/// The options that bound every exchange, shared by `fetch` and `loadtest`: `--max-response-size`
/// and `--request-timeout` (see ``HTTPLimits``).
enum TransportOptions {
    /// Their lines for `--help`.
    static let help = """
              --max-response-size SIZE  the largest answer accepted (default 8MiB: a conversation with
                                    thousands of messages is a few MiB). A larger one fails with that
                                    reason, is not retried, and its connection is closed; nothing is
                                    buffered past the limit. SIZE: bytes, or with KiB, MiB, GiB (K, M,
                                    G alike) or KB, MB, GB
              --request-timeout D   the deadline of one request, from its first byte sent to the last
                                    byte of its answer (default 60s), beside the 60 s a connection may
                                    stay silent. A request past it fails and is retried like a reset
        """

    /// Reads both options into `limits`.
    static func parse(_ arguments: inout Arguments, into limits: inout HTTPLimits) throws {
        if let text = try arguments.value("max-response-size") {
            guard let bytes = size(text), bytes >= 1024 else {
                throw ConvoyError.usage(
                    "--max-response-size takes a size of at least 1KiB such as 8MiB or 500KB, not '\(text)'")
            }
            limits.maxResponseBytes = bytes
        }
        if let text = try arguments.value("request-timeout") {
            guard let seconds = LoadSchedule.parseDuration(text), seconds > 0 else {
                throw ConvoyError.usage("--request-timeout takes a duration such as 60s or 2m, not '\(text)'")
            }
            limits.requestTimeout = .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
    }

    /// `8MiB`, `8M`, `500KB`, `1048576` → bytes: binary units for KiB/MiB/GiB and bare K/M/G,
    /// decimal for KB/MB/GB. Nil for anything else, or a size that does not fit.
    static func size(_ text: String) -> Int? {
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
        ]
        var number = Substring(text)
        var scale = 1
        if let (suffix, factor) = units.first(where: { text.uppercased().hasSuffix($0.0.uppercased()) }) {
            number = number.dropLast(suffix.count)
            scale = factor
        }
        guard let value = Int(number), value >= 0, !number.hasPrefix("+") else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }
}
