import Convoy
import Foundation
import Glibc
import Synchronization

/// A loopback TCP server whose every accepted connection runs `script` on its own thread, so a test
/// can send exactly the bytes (or the silence, or the close) that a class of server sends.
final class ScriptedServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let accepted = Mutex<Int>(0)

    /// One accepted connection: read what the client sent, write raw bytes, close.
    struct Connection: Sendable {
        let descriptor: Int32

        /// Reads until the request head's blank line (and `bodyBytes` more), or the client's close.
        func readRequest(bodyBytes: Int = 0) -> String {
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                if let end = received.firstRange(of: Array("\r\n\r\n".utf8)),
                    received.count >= end.upperBound + bodyBytes
                {
                    return String(decoding: received, as: UTF8.self)
                }
                let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return String(decoding: received, as: UTF8.self) }
                received.append(contentsOf: chunk[0..<count])
            }
        }

        /// One `recv`: whatever the client has sent so far.
        func readSome() -> [UInt8] {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            return Array(chunk.prefix(max(0, count)))
        }

        func write(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        func close() {
            shutdown(descriptor, Int32(SHUT_RDWR))
            Glibc.close(descriptor)
        }
    }

    /// Connections accepted so far.
    var connections: Int { accepted.withLock { $0 } }

    var url: String { "http://127.0.0.1:\(port)" }

    init(script: @escaping @Sendable (Connection) -> Void) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(descriptor, raw, length) == 0 && listen(descriptor, 64) == 0
                    && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else { throw ConvoyError.configuration("cannot listen on 127.0.0.1") }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let listener = descriptor
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                accepted.withLock { $0 += 1 }
                Thread.detachNewThread { script(Connection(descriptor: connection)) }
            }
        }
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }
}
