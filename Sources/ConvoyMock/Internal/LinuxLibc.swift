import Glibc

/// Linux libc functions that Swift's `Glibc` module does not export (`<sys/epoll.h>`, `<sys/eventfd.h>` and the
/// GNU `accept4`). The package deliberately has no C targets, so they are looked up with `dlsym`: they live in libc,
/// which every Swift process has loaded.
enum LinuxLibc {
    /// The function `name` in the running process, as a `@convention(c)` function type, or `nil` if absent.
    static func function<Function>(_ name: String, as type: Function.Type) -> Function? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }

    private typealias Accept4Function =
        @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    private static let accept4: Accept4Function? = function("accept4", as: Accept4Function.self)

    /// Accepts a connection that is nonblocking and close-on-exec from the start (`accept4` with `SOCK_NONBLOCK |
    /// SOCK_CLOEXEC`), so a process spawned concurrently can never inherit it. Falls back to `accept` + `fcntl`.
    /// Returns −1 with `errno` on failure.
    static func acceptNonblocking(_ listener: Int32) -> Int32 {
        if let accept4 {
            return accept4(listener, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        }
        let descriptor = accept(listener, nil, nil)
        if descriptor >= 0 {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        return descriptor
    }
}
