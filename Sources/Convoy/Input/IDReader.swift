import Dispatch
import Foundation
import Glibc
import Synchronization

/// Streams ``InputLine``s from a file descriptor without loading the input into memory.
///
/// A dedicated thread does the blocking reads (stdin may be a slow pipe), parses the lines and
/// hands them over in batches of up to ``batchSize`` through a bounded buffer of
/// ``bufferCapacity`` lines, so memory stays flat however long the input is, and a line costs a
/// parse, not a hand-over. A batch goes as soon as the read that completed it is split, so a slow
/// pipe's lines are not held back. Lines are numbered from 1.
public struct IDReader: AsyncSequence, Sendable {
    public typealias Element = (line: Int, item: InputLine)

    /// Lines read ahead of the consumer at most.
    public static let bufferCapacity = 4096
    /// Lines handed over at once at most.
    public static let batchSize = 256
    /// The longest line read whole (16 MiB: a JSON line of Convoy's own output with every part
    /// fits). A longer one is an invalid line that keeps only its first ``excerptLength`` bytes,
    /// so a 300 MB line costs 16 MiB of memory at most and 64 bytes in the errors file.
    public static let maxLineLength = 16 << 20
    /// What an over-long line keeps of itself.
    public static let excerptLength = 64

    private let open: @Sendable () throws -> Int32
    private let closeWhenDone: Bool
    /// Sees every byte read, in order (to hash a stream that cannot be read twice).
    private let tap: (@Sendable (UnsafeRawBufferPointer) -> Void)?

    /// Reads the file at `path`.
    public init(path: String) {
        open = {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw ConvoyError.input("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            return fd
        }
        closeWhenDone = true
        tap = nil
    }

    /// Reads standard input.
    public static var standardInput: IDReader { IDReader(descriptor: STDIN_FILENO, tap: nil) }

    /// Reads standard input, showing every byte read to `tap` first (on the reading thread).
    public static func standardInput(tap: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) -> IDReader {
        IDReader(descriptor: STDIN_FILENO, tap: tap)
    }

    private init(descriptor: Int32, tap: (@Sendable (UnsafeRawBufferPointer) -> Void)?) {
        open = { descriptor }
        closeWhenDone = false
        self.tap = tap
    }

    /// Opens the input now, so a missing file fails before any work starts.
    public func validate() throws {
        let fd = try open()
        if closeWhenDone { _ = close(fd) }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        let (stream, continuation) = AsyncThrowingStream<[Element], Error>.makeStream(bufferingPolicy: .unbounded)
        // One slot a batch. Start at 0 and add the capacity: libdispatch traps when a semaphore is
        // freed below its initial value, which a consumer that stops early would otherwise cause.
        let slots = DispatchSemaphore(value: 0)
        for _ in 0..<Self.bufferCapacity / Self.batchSize { slots.signal() }
        let open = self.open
        let closeWhenDone = self.closeWhenDone
        let tap = self.tap
        let stopped = StopFlag()
        continuation.onTermination = { _ in
            stopped.flag.store(true, ordering: .releasing)
            slots.signal()  // unblock a reader waiting for room
        }
        let thread = Thread {
            do {
                let fd = try open()
                defer { if closeWhenDone { _ = close(fd) } }
                var splitter = LineSplitter(maxLength: Self.maxLineLength, excerptLength: Self.excerptLength)
                var buffer = [UInt8](repeating: 0, count: 256 * 1024)
                var lineNumber = 0
                var batch: [Element] = []
                batch.reserveCapacity(Self.batchSize)
                func flush() {
                    guard !batch.isEmpty else { return }
                    slots.wait()
                    if stopped.flag.load(ordering: .acquiring) {
                        slots.signal()  // pass the wake-up on to the next wait
                        return
                    }
                    continuation.yield(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                func emit(_ line: UnsafeRawBufferPointer, length: Int) {
                    lineNumber += 1
                    batch.append((lineNumber, InputLine(parsing: line, length: length)))
                    if batch.count == Self.batchSize { flush() }
                }
                while !stopped.flag.load(ordering: .acquiring) {
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw ConvoyError.input("cannot read input: \(String(cString: strerror(errno)))")
                    }
                    if count == 0 { break }
                    buffer.withUnsafeBytes { bytes in
                        let chunk = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                        tap?(chunk)
                        splitter.feed(chunk, emit: emit)
                    }
                    flush()
                }
                splitter.finish(emit: emit)
                flush()
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "convoy-input"
        thread.start()
        return AsyncIterator(base: stream.makeAsyncIterator(), slots: slots)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[Element], Error>.AsyncIterator
        let slots: DispatchSemaphore
        var batch: [Element] = []
        var next = 0

        public mutating func next() async throws -> Element? {
            if next == batch.count {
                guard let fresh = try await base.next() else { return nil }
                slots.signal()
                batch = fresh
                next = 0
            }
            defer { next += 1 }
            return batch[next]
        }
    }
}

/// Set when the consumer goes away, so the reading thread stops.
private final class StopFlag: Sendable {
    let flag = Atomic<Bool>(false)
}

/// Splits a byte stream into lines at `\n`, carrying a partial line across chunks. A line longer
/// than `maxLength` is not held: only its first `excerptLength` bytes are kept, and it is emitted
/// with its whole length, so the caller can tell it from a line that fits.
struct LineSplitter {
    let maxLength: Int
    let excerptLength: Int
    private var pending: [UInt8] = []
    /// Bytes of the current line so far, held or not.
    private var length = 0

    init(maxLength: Int = IDReader.maxLineLength, excerptLength: Int = IDReader.excerptLength) {
        self.maxLength = maxLength
        self.excerptLength = excerptLength
    }

    /// Emits each line completed in `chunk`, without its `\n`, and its length (over `maxLength`:
    /// only the excerpt was kept).
    mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer, _ length: Int) -> Void) {
        var start = 0
        while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if length == 0 {
                let count = newline - start
                let kept = count > maxLength ? min(count, excerptLength) : count
                emit(UnsafeRawBufferPointer(rebasing: chunk[start..<start + kept]), count)
            } else {
                append(chunk[start..<newline])
                pending.withUnsafeBytes { emit($0, length) }
                pending.removeAll(keepingCapacity: length <= maxLength)
                length = 0
            }
            start = newline + 1
        }
        append(chunk[start...])
    }

    mutating func finish(emit: (UnsafeRawBufferPointer, _ length: Int) -> Void) {
        if length > 0 { pending.withUnsafeBytes { emit($0, length) } }
        pending.removeAll()
        length = 0
    }

    private mutating func append(_ bytes: Slice<UnsafeRawBufferPointer>) {
        length += bytes.count
        if length <= maxLength {
            pending.append(contentsOf: bytes)
        } else if pending.count > excerptLength {
            pending = Array(pending.prefix(excerptLength))  // let the rest go at once
        } else {
            pending.append(contentsOf: bytes.prefix(excerptLength - pending.count))
        }
    }
}
