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

    /// Writes `text` and a newline to standard output.
    public func print(_ text: String) {
        emit(Array((text + "\n").utf8), toError: false)
    }

    /// Writes `text` and a newline to standard error.
    public func error(_ text: String) {
        emit(Array((text + "\n").utf8), toError: true)
    }

    /// Redraws the one-line progress display (terminals only).
    public func progress(_ text: String) {
        guard isTerminal else { return }
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
