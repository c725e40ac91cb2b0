import Foundation
import Glibc

/// The system's OpenSSL (`libssl.so.3`, else `libssl.so.1.1`), opened at run time, so TLS needs no
/// package and no headers: FoundationNetworking's libcurl links the same library, so wherever
/// URLSession can speak TLS, this can too. Only functions with fixed (non-variadic) signatures are
/// called, each through a pointer from `dlsym` with the C signature spelled out here.
///
/// A client context verifies the peer: the system's trust store (OpenSSL's default paths, which
/// honour `SSL_CERT_FILE` and `SSL_CERT_DIR`), or the one bundle given; `SSL_VERIFY_PEER`; the host
/// name (or IP address) checked against the certificate; TLS 1.2 at least; SNI for names.
///
/// OpenSSL writes to the socket with `write(2)`, which raises `SIGPIPE` on a closed peer, so loading
/// the library sets `SIGPIPE` to ignored for the process (as `convoy` already does for its output).
final class TLSLibrary: Sendable {
    typealias Pointer = OpaquePointer
    typealias CString = UnsafePointer<CChar>

    let clientMethod: @convention(c) () -> Pointer?
    let contextNew: @convention(c) (Pointer?) -> Pointer?
    let contextFree: @convention(c) (Pointer?) -> Void
    let contextSetVerify: @convention(c) (Pointer?, Int32, Pointer?) -> Void
    let contextDefaultPaths: @convention(c) (Pointer?) -> Int32
    let contextLoadLocations: @convention(c) (Pointer?, CString?, CString?) -> Int32
    let contextControl: @convention(c) (Pointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let contextSetOptions: (@convention(c) (Pointer?, UInt64) -> UInt64)?
    let new: @convention(c) (Pointer?) -> Pointer?
    let free: @convention(c) (Pointer?) -> Void
    let setDescriptor: @convention(c) (Pointer?, Int32) -> Int32
    let control: @convention(c) (Pointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let setHost: @convention(c) (Pointer?, CString?) -> Int32
    let parameters: @convention(c) (Pointer?) -> Pointer?
    let setIPAddress: @convention(c) (Pointer?, CString?) -> Int32
    let connect: @convention(c) (Pointer?) -> Int32
    let read: @convention(c) (Pointer?, UnsafeMutableRawPointer?, Int32) -> Int32
    let write: @convention(c) (Pointer?, UnsafeRawPointer?, Int32) -> Int32
    let error: @convention(c) (Pointer?, Int32) -> Int32
    let shutdown: @convention(c) (Pointer?) -> Int32
    let verifyResult: @convention(c) (Pointer?) -> Int
    let verifyErrorString: @convention(c) (Int) -> CString?
    let nextError: @convention(c) () -> UInt
    let errorString: @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void
    let clearErrors: @convention(c) () -> Void

    // From OpenSSL's headers (stable across 1.1 and 3).
    static let verifyPeer: Int32 = 1  // SSL_VERIFY_PEER
    static let setHostNameControl: Int32 = 55  // SSL_CTRL_SET_TLSEXT_HOSTNAME
    static let minimumVersionControl: Int32 = 123  // SSL_CTRL_SET_MIN_PROTO_VERSION
    static let tls12: Int = 0x0303  // TLS1_2_VERSION
    static let ignoreUnexpectedEOF: UInt64 = 1 << 7  // SSL_OP_IGNORE_UNEXPECTED_EOF (3.0)
    static let errorSSL: Int32 = 1, errorWantRead: Int32 = 2, errorWantWrite: Int32 = 3
    static let errorSyscall: Int32 = 5, errorZeroReturn: Int32 = 6

    /// The library, or nil when no libssl could be opened (then https goes through URLSession).
    static let shared: TLSLibrary? = {
        for name in ["libssl.so.3", "libssl.so.1.1", "libssl.so"] {
            if let handle = dlopen(name, RTLD_NOW), let library = TLSLibrary(handle) {
                _ = signal(SIGPIPE, SIG_IGN)
                return library
            }
        }
        return nil
    }()

    private init?(_ handle: UnsafeMutableRawPointer) {
        func symbol<T>(_ name: String, as type: T.Type = T.self) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let clientMethod = symbol("TLS_client_method", as: (@convention(c) () -> Pointer?).self),
            let contextNew = symbol("SSL_CTX_new", as: (@convention(c) (Pointer?) -> Pointer?).self),
            let contextFree = symbol("SSL_CTX_free", as: (@convention(c) (Pointer?) -> Void).self),
            let contextSetVerify = symbol(
                "SSL_CTX_set_verify", as: (@convention(c) (Pointer?, Int32, Pointer?) -> Void).self),
            let contextDefaultPaths = symbol(
                "SSL_CTX_set_default_verify_paths", as: (@convention(c) (Pointer?) -> Int32).self),
            let contextLoadLocations = symbol(
                "SSL_CTX_load_verify_locations", as: (@convention(c) (Pointer?, CString?, CString?) -> Int32).self),
            let contextControl = symbol(
                "SSL_CTX_ctrl", as: (@convention(c) (Pointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int).self),
            let new = symbol("SSL_new", as: (@convention(c) (Pointer?) -> Pointer?).self),
            let free = symbol("SSL_free", as: (@convention(c) (Pointer?) -> Void).self),
            let setDescriptor = symbol("SSL_set_fd", as: (@convention(c) (Pointer?, Int32) -> Int32).self),
            let control = symbol(
                "SSL_ctrl", as: (@convention(c) (Pointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int).self),
            let setHost = symbol("SSL_set1_host", as: (@convention(c) (Pointer?, CString?) -> Int32).self),
            let parameters = symbol("SSL_get0_param", as: (@convention(c) (Pointer?) -> Pointer?).self),
            let setIPAddress = symbol(
                "X509_VERIFY_PARAM_set1_ip_asc", as: (@convention(c) (Pointer?, CString?) -> Int32).self),
            let connect = symbol("SSL_connect", as: (@convention(c) (Pointer?) -> Int32).self),
            let read = symbol(
                "SSL_read", as: (@convention(c) (Pointer?, UnsafeMutableRawPointer?, Int32) -> Int32).self),
            let write = symbol("SSL_write", as: (@convention(c) (Pointer?, UnsafeRawPointer?, Int32) -> Int32).self),
            let error = symbol("SSL_get_error", as: (@convention(c) (Pointer?, Int32) -> Int32).self),
            let shutdown = symbol("SSL_shutdown", as: (@convention(c) (Pointer?) -> Int32).self),
            let verifyResult = symbol("SSL_get_verify_result", as: (@convention(c) (Pointer?) -> Int).self),
            let verifyErrorString = symbol(
                "X509_verify_cert_error_string", as: (@convention(c) (Int) -> CString?).self),
            let nextError = symbol("ERR_get_error", as: (@convention(c) () -> UInt).self),
            let errorString = symbol(
                "ERR_error_string_n", as: (@convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void).self),
            let clearErrors = symbol("ERR_clear_error", as: (@convention(c) () -> Void).self)
        else { return nil }
        self.clientMethod = clientMethod
        self.contextNew = contextNew
        self.contextFree = contextFree
        self.contextSetVerify = contextSetVerify
        self.contextDefaultPaths = contextDefaultPaths
        self.contextLoadLocations = contextLoadLocations
        self.contextControl = contextControl
        // The option bit means "ignore an unexpected EOF" only from OpenSSL 3.0 on.
        let version = symbol("OpenSSL_version_num", as: (@convention(c) () -> UInt).self)?() ?? 0
        self.contextSetOptions = version >= 0x3000_0000 ? symbol("SSL_CTX_set_options") : nil
        self.new = new
        self.free = free
        self.setDescriptor = setDescriptor
        self.control = control
        self.setHost = setHost
        self.parameters = parameters
        self.setIPAddress = setIPAddress
        self.connect = connect
        self.read = read
        self.write = write
        self.error = error
        self.shutdown = shutdown
        self.verifyResult = verifyResult
        self.verifyErrorString = verifyErrorString
        self.nextError = nextError
        self.errorString = errorString
        self.clearErrors = clearErrors
    }

    /// A client context that verifies peers against `trustedCertificates` (a PEM bundle) or, when
    /// nil, the system's trust store. Shared by every connection of a transport: OpenSSL allows
    /// `SSL_new` on one context from many threads once it is set up.
    func makeClientContext(trustedCertificates: String?) throws -> TLSContext {
        guard let context = contextNew(clientMethod()) else {
            throw SocketTransportError.tlsRefused("cannot create a TLS context: \(lastError())")
        }
        contextSetVerify(context, Self.verifyPeer, nil)
        _ = contextControl(context, Self.minimumVersionControl, Self.tls12, nil)
        _ = contextSetOptions?(context, Self.ignoreUnexpectedEOF)
        let loaded =
            trustedCertificates.map { contextLoadLocations(context, $0, nil) } ?? contextDefaultPaths(context)
        guard loaded == 1 else {
            contextFree(context)
            throw SocketTransportError.tlsRefused(
                "cannot load the trusted certificates \(trustedCertificates ?? "of the system"): \(lastError())")
        }
        return TLSContext(library: self, context: context)
    }

    /// The oldest queued OpenSSL error as text, and the queue cleared.
    func lastError() -> String {
        let code = nextError()
        clearErrors()
        return describe(code)
    }

    /// An `ERR_get_error` code as OpenSSL's text.
    func describe(_ code: UInt) -> String {
        guard code != 0 else { return "no detail" }
        var text = [CChar](repeating: 0, count: 256)
        errorString(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One `SSL_CTX`, freed with the transport.
final class TLSContext: @unchecked Sendable {
    // Immutable after set-up; OpenSSL makes `SSL_new` on it thread-safe.
    let library: TLSLibrary
    let context: OpaquePointer

    init(library: TLSLibrary, context: OpaquePointer) {
        self.library = library
        self.context = context
    }

    deinit {
        library.contextFree(context)
    }
}
