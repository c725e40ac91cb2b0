import Foundation
import Glibc

/// One TLS session over a connected, blocking socket: the handshake with the peer's certificate and
/// name verified, then reads and writes that map OpenSSL's outcomes onto `recv`'s and `send`'s.
///
/// On a blocking socket, `SSL_ERROR_WANT_READ`/`WANT_WRITE` can only mean that `SO_RCVTIMEO` or
/// `SO_SNDTIMEO` ran out: a time-out. A close, with or without `close_notify`, reads as 0 bytes.
final class TLSStream {
    private let context: TLSContext
    private let session: OpaquePointer
    private var library: TLSLibrary { context.library }

    /// Shakes hands on `descriptor` for `host`; throws with OpenSSL's reason, or with the
    /// certificate's when verification refused it.
    init(context: TLSContext, descriptor: Int32, host: String, timeoutSeconds: Double) throws {
        let library = context.library
        library.clearErrors()
        guard let session = library.new(context.context) else {
            throw SocketTransportError.tls("cannot create a TLS session: \(library.lastError())")
        }
        self.context = context
        self.session = session
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let named: Bool = host.withCString { name in
            if isAddress { return library.setIPAddress(library.parameters(session), name) == 1 }
            _ = library.control(session, TLSLibrary.setHostNameControl, 0, UnsafeMutableRawPointer(mutating: name))
            return library.setHost(session, name) == 1
        }
        // From here on a throw runs `deinit`, which frees the session.
        guard named, library.setDescriptor(session, descriptor) == 1 else {
            throw SocketTransportError.tls("cannot set up the session for \(host): \(library.lastError())")
        }
        let result = library.connect(session)
        guard result == 1 else {
            throw Self.handshakeFailure(library, session, result, timeoutSeconds: timeoutSeconds)
        }
    }

    private static func handshakeFailure(
        _ library: TLSLibrary, _ session: OpaquePointer, _ result: Int32, timeoutSeconds: Double
    ) -> SocketTransportError {
        let code = errno
        let kind = library.error(session, result)
        let verification = library.verifyResult(session)
        if verification != 0 {
            library.clearErrors()
            let reason = library.verifyErrorString(verification).map { String(cString: $0) } ?? "code \(verification)"
            return .tlsRefused("the server's certificate was refused: \(reason)")
        }
        if kind == TLSLibrary.errorWantRead || kind == TLSLibrary.errorWantWrite {
            return .timedOut(seconds: timeoutSeconds)
        }
        let queued = library.nextError()
        library.clearErrors()
        if kind == TLSLibrary.errorSyscall && queued == 0 {
            // The connection went away mid-handshake: the network's doing, worth another try.
            let detail = code == 0 ? "the server closed the connection" : SocketTransportError.describeErrno(code)
            return .tls("the handshake failed: \(detail)")
        }
        return .tlsRefused("the handshake failed: \(library.describe(queued))")
    }

    deinit {
        library.free(session)
    }

    /// Sends `close_notify` (best effort: the peer may be gone).
    func shutdown() {
        _ = library.shutdown(session)
        library.clearErrors()
    }

    /// Like `recv`: bytes read, 0 at the peer's close; throws on a time-out or a TLS failure.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, timeoutSeconds: Double) throws -> Int {
        let result = library.read(session, buffer, Int32(clamping: count))
        if result > 0 { return Int(result) }
        return try failure(result, call: "SSL_read", timeoutSeconds: timeoutSeconds)
    }

    /// Like `send`: bytes written; throws on a time-out, a closed peer or a TLS failure.
    func write(_ bytes: UnsafeRawPointer, count: Int, timeoutSeconds: Double) throws -> Int {
        let result = library.write(session, bytes, Int32(clamping: count))
        if result > 0 { return Int(result) }
        _ = try failure(result, call: "SSL_write", timeoutSeconds: timeoutSeconds)
        throw SocketTransportError.closedBeforeAnswer  // the peer closed the connection
    }

    /// 0 for a close; throws otherwise.
    private func failure(_ result: Int32, call: String, timeoutSeconds: Double) throws -> Int {
        let code = errno
        let kind = library.error(session, result)
        if kind == TLSLibrary.errorZeroReturn { return 0 }
        if kind == TLSLibrary.errorWantRead || kind == TLSLibrary.errorWantWrite {
            throw SocketTransportError.timedOut(seconds: timeoutSeconds)
        }
        let queued = library.nextError()
        library.clearErrors()
        if kind == TLSLibrary.errorSyscall && queued == 0 {
            if code == 0 || code == ECONNRESET || code == EPIPE { return 0 }
            throw SocketTransportError.socket(call: call, reason: SocketTransportError.describeErrno(code))
        }
        throw SocketTransportError.tls("\(call) failed: \(library.describe(queued))")
    }
}
