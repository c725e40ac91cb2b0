import Glibc

/// Minimal Linux `epoll` and `eventfd` bindings, resolved once through ``LinuxLibc`` (Swift's `Glibc` module does not
/// export them). `struct epoll_event` is declared `__attribute__((packed))` on x86-64 (12 bytes) and naturally
/// aligned elsewhere (16 bytes); the event buffers below are raw bytes laid out accordingly.
enum Epoll {
    static let input: UInt32 = 0x001  // EPOLLIN
    static let output: UInt32 = 0x004  // EPOLLOUT
    static let error: UInt32 = 0x008  // EPOLLERR
    static let hangUp: UInt32 = 0x010  // EPOLLHUP

    private static let controlAdd: Int32 = 1  // EPOLL_CTL_ADD
    private static let controlDelete: Int32 = 2  // EPOLL_CTL_DEL
    private static let controlModify: Int32 = 3  // EPOLL_CTL_MOD

    #if arch(x86_64)
        static let eventSize = 12
        private static let dataOffset = 4
    #else
        static let eventSize = 16
        private static let dataOffset = 8
    #endif

    private typealias CreateFunction = @convention(c) (Int32) -> Int32
    private typealias ControlFunction = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    private typealias WaitFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    private typealias EventFDFunction = @convention(c) (UInt32, Int32) -> Int32

    private struct Functions {
        let create: CreateFunction
        let control: ControlFunction
        let wait: WaitFunction
        let eventfd: EventFDFunction
    }

    /// Resolved once, thread-safely (global lazy initialisation); `nil` if libc lacks them (not Linux).
    private static let functions: Functions? = {
        guard let create = LinuxLibc.function("epoll_create1", as: CreateFunction.self),
            let control = LinuxLibc.function("epoll_ctl", as: ControlFunction.self),
            let wait = LinuxLibc.function("epoll_wait", as: WaitFunction.self),
            let eventfd = LinuxLibc.function("eventfd", as: EventFDFunction.self)
        else { return nil }
        return Functions(create: create, control: control, wait: wait, eventfd: eventfd)
    }()

    /// `epoll_create1(EPOLL_CLOEXEC)`; −1 with `errno` on failure.
    static func create() -> Int32 {
        guard let functions else {
            errno = ENOSYS
            return -1
        }
        return functions.create(O_CLOEXEC)
    }

    /// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`; −1 with `errno` on failure.
    static func createEventFD() -> Int32 {
        guard let functions else {
            errno = ENOSYS
            return -1
        }
        return functions.eventfd(0, O_NONBLOCK | O_CLOEXEC)
    }

    @discardableResult
    static func add(_ epoll: Int32, descriptor: Int32, events: UInt32, token: UInt64) -> Int32 {
        control(epoll, operation: controlAdd, descriptor: descriptor, events: events, token: token)
    }

    @discardableResult
    static func modify(_ epoll: Int32, descriptor: Int32, events: UInt32, token: UInt64) -> Int32 {
        control(epoll, operation: controlModify, descriptor: descriptor, events: events, token: token)
    }

    @discardableResult
    static func remove(_ epoll: Int32, descriptor: Int32) -> Int32 {
        control(epoll, operation: controlDelete, descriptor: descriptor, events: 0, token: 0)
    }

    private static func control(
        _ epoll: Int32, operation: Int32, descriptor: Int32, events: UInt32, token: UInt64
    )
        -> Int32
    {
        guard let functions else { return -1 }
        return withUnsafeTemporaryAllocation(byteCount: eventSize, alignment: 8) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            raw.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: token, toByteOffset: dataOffset, as: UInt64.self)
            return functions.control(epoll, operation, descriptor, raw.baseAddress)
        }
    }

    /// A reusable buffer for `epoll_wait` results.
    struct EventBuffer {
        private var storage: [UInt8]
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            storage = [UInt8](repeating: 0, count: capacity * Epoll.eventSize)
        }

        /// `epoll_wait`; returns the number of ready events, or −1 with `errno`.
        mutating func wait(_ epoll: Int32, timeoutMilliseconds: Int32) -> Int32 {
            guard let functions = Epoll.functions else { return -1 }
            let capacity = Int32(capacity)
            return storage.withUnsafeMutableBytes {
                functions.wait(epoll, $0.baseAddress, capacity, timeoutMilliseconds)
            }
        }

        /// The event mask and registration token of ready event `index`.
        func event(at index: Int) -> (events: UInt32, token: UInt64) {
            storage.withUnsafeBytes { raw in
                let base = index * Epoll.eventSize
                return (
                    raw.loadUnaligned(fromByteOffset: base, as: UInt32.self),
                    raw.loadUnaligned(fromByteOffset: base + Epoll.dataOffset, as: UInt64.self)
                )
            }
        }
    }
}
