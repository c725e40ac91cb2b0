import Foundation
import Glibc
import Synchronization

/// Where the CLI writes: standard output for data, standard error for people.
///
/// Tests capture both with ``Console/capturing()``. The live progress line is drawn only when
/// standard error is a terminal, and is cleared before any other message.
public final class Console: Sendable {
    private struct State {
        var out: [UInt8] = []
        var err: [UInt8] = []
        var progressShown = false
        /// Replaced wherever they appear (``hide(_:)``).
        var secrets: [String] = []
    }

    private let capture: Bool
    private let state = Mutex(State())
    /// True when standard error is an interactive terminal (progress is drawn).
    public let isTerminal: Bool
    /// Where `--output -` streams records: standard output, or what a test gave.
    public let recordStream: Int32

    private init(capture: Bool, isTerminal: Bool, recordStream: Int32) {
        self.capture = capture
        self.isTerminal = isTerminal
        self.recordStream = recordStream
    }

    /// The process's real standard output and error.
    public static func standard() -> Console {
        Console(capture: false, isTerminal: isatty(STDERR_FILENO) == 1, recordStream: STDOUT_FILENO)
    }

    /// A console that records everything, for tests; records of `--output -` go to `recordStream`
    /// (a pipe's write end, say; none by default).
    public static func capturing(recordStream: Int32 = -1) -> Console {
        Console(capture: true, isTerminal: false, recordStream: recordStream)
    }

    /// Everything written to standard output so far (capturing consoles only).
    public var capturedOutput: String { state.withLock { String(decoding: $0.out, as: UTF8.self) } }
    /// Everything written to standard error so far (capturing consoles only).
    public var capturedError: String { state.withLock { String(decoding: $0.err, as: UTF8.self) } }

    /// From now on, `secrets` are replaced by `<redacted>` wherever they appear in what either
    /// stream is given, whoever wrote the text (an error that quotes an argument, a server that
    /// echoes a token). Values shorter than four characters are not searched for.
    public func hide(_ secrets: [String]) {
        let secrets = secrets.filter { $0.count >= Redaction.shortestSecret }
        guard !secrets.isEmpty else { return }
        state.withLock { $0.secrets += secrets }
    }

    /// `text` with every secret given to ``hide(_:)`` replaced, for a file (a manifest's message).
    public func redacted(_ text: String) -> String {
        let secrets = state.withLock { $0.secrets }
        return secrets.isEmpty ? text : Redaction.scrub(text, secrets: secrets)
    }

    /// Writes `text` and a newline to standard output: secrets hidden, control characters escaped.
    public func print(_ text: String) {
        emit(Array((clean(text) + "\n").utf8), toError: false)
    }

    /// Writes `text` and a newline to standard error: secrets hidden, control characters escaped.
    public func error(_ text: String) {
        emit(Array((clean(text) + "\n").utf8), toError: true)
    }

    /// `text` as a terminal may be shown it: each secret replaced, and every control character but
    /// newline and tab (an escape sequence from a server's error text, a `Location` header, a file
    /// name) written as a visible `\u{1B}`, so no text can move the cursor, retitle the window or
    /// hide what precedes it.
    func clean(_ text: String) -> String {
        Self.escapingControlCharacters(redacted(text))
    }

    /// `text` with C0 and C1 control characters (but `\n` and `\t`) and DEL as `\u{XX}`.
    static func escapingControlCharacters(_ text: String) -> String {
        func isControl(_ scalar: Unicode.Scalar) -> Bool {
            (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
        }
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Redraws the one-line progress display (terminals only).
    public func progress(_ text: String) {
        guard isTerminal else { return }
        let text = clean(text)
        state.withLock { state in
            state.progressShown = true
            Self.write(STDERR_FILENO, Array(("\r\u{1B}[K" + text).utf8))
        }
    }

    /// Removes the progress line, if one is shown.
    public func clearProgress() {
        state.withLock { state in
            if state.progressShown {
                Self.write(STDERR_FILENO, Array("\r\u{1B}[K".utf8))
                state.progressShown = false
            }
        }
    }

    private func emit(_ bytes: [UInt8], toError: Bool) {
        state.withLock { state in
            if capture {
                if toError { state.err += bytes } else { state.out += bytes }
                return
            }
            if state.progressShown {
                Self.write(STDERR_FILENO, Array("\r\u{1B}[K".utf8))
                state.progressShown = false
            }
            Self.write(toError ? STDERR_FILENO : STDOUT_FILENO, bytes)
        }
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 {
                    if written < 0, errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
