import Glibc

/// The system calls that make Convoy's files durable, behind one seam.
///
/// ``NDJSONFile``, ``AtomicFile`` and ``OutputStore`` open, write, sync and rename through this
/// protocol, so a test can record the order of those calls (a record is synced at the interval,
/// on exit and on Ctrl-C; a checkpoint is written, synced, renamed, then its folder synced)
/// without a crash-test machine. Each method has its system call's contract: a negative result
/// means failure with `errno` set. Production code uses ``PosixFileSystem``.
public protocol FileSystem: Sendable {
    /// `open(2)`.
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32
    /// `write(2)`: may write less than asked.
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int
    /// `fsync(2)`.
    func fsync(_ descriptor: Int32) -> Int32
    /// `rename(2)`.
    func rename(_ source: String, to destination: String) -> Int32
}

/// The real system calls.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }

    public func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        Glibc.write(descriptor, bytes.baseAddress, bytes.count)
    }

    public func fsync(_ descriptor: Int32) -> Int32 { Glibc.fsync(descriptor) }

    public func rename(_ source: String, to destination: String) -> Int32 { Glibc.rename(source, destination) }
}
