import Convoy
import Glibc
import Synchronization

/// The real system calls, with each write, fsync and rename logged by file name, in call order.
final class RecordingFileSystem: FileSystem {
    enum Call: Equatable, CustomStringConvertible {
        case open(String)
        case write(String)
        case fsync(String)
        case rename(String, String)

        var description: String {
            switch self {
            case .open(let name): "open \(name)"
            case .write(let name): "write \(name)"
            case .fsync(let name): "fsync \(name)"
            case .rename(let from, let to): "rename \(from) \(to)"
            }
        }
    }

    private struct State {
        var calls: [Call] = []
        var names: [Int32: String] = [:]
    }

    private let real = PosixFileSystem()
    private let state = Mutex(State())

    /// Every call so far, files named by their last path component.
    var calls: [Call] { state.withLock { $0.calls } }

    /// Forgets the calls so far (the descriptors stay known).
    func reset() { state.withLock { $0.calls.removeAll() } }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        let descriptor = real.open(path, flags: flags, mode: mode)
        let name = Self.name(path)
        state.withLock { state in
            state.calls.append(.open(name))
            if descriptor >= 0 { state.names[descriptor] = name }
        }
        return descriptor
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let written = real.write(descriptor, bytes)
        let saved = errno  // the caller reads it after a failure
        state.withLock { $0.calls.append(.write($0.names[descriptor] ?? "fd\(descriptor)")) }
        errno = saved
        return written
    }

    func fsync(_ descriptor: Int32) -> Int32 {
        let result = real.fsync(descriptor)
        let saved = errno
        state.withLock { $0.calls.append(.fsync($0.names[descriptor] ?? "fd\(descriptor)")) }
        errno = saved
        return result
    }

    func rename(_ source: String, to destination: String) -> Int32 {
        let result = real.rename(source, to: destination)
        state.withLock { $0.calls.append(.rename(Self.name(source), Self.name(destination))) }
        return result
    }

    private static func name(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
