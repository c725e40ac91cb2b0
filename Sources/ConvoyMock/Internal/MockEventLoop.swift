import Glibc

/// The mock server's single-threaded epoll loop: accepts connections, parses requests, schedules responses on a
/// timer heap and writes them in request order. Every member is touched only by the loop thread; the only shared
/// state is ``MockServerState`` (behind a `Mutex`).
final class MockEventLoop {
    /// Registration tokens of the two fixed descriptors; connections get tokens from 2 upwards.
    private static let listenToken: UInt64 = 0
    private static let wakeToken: UInt64 = 1
    /// Stop parsing a connection's requests while this many response bytes wait to be written…
    private static let maximumBufferedOutput = 1 << 20
    /// …or this many responses wait for their send time.
    private static let maximumPendingResponses = 1024

    /// One client connection.
    private final class Connection {
        struct Pending {
            var ready: Bool
            var response: PlannedResponse
        }

        let descriptor: Int32
        let token: UInt64
        var input: [UInt8] = []
        /// Index in `input` of the first unparsed byte.
        var inputStart = 0
        var output: [UInt8] = []
        /// Index in `output` of the first unsent byte.
        var outputStart = 0
        /// Responses in request order; `pending[i]` belongs to request number `firstSequence + i`.
        var pending: [Pending] = []
        var firstSequence: UInt64 = 0
        var nextSequence: UInt64 = 0
        /// False once a request (or a fault) ends the connection, or the peer stopped sending.
        var acceptsRequests = true
        var peerClosed = false
        var closeAfterOutput = false
        var resetOnClose = false
        var registeredEvents: UInt32 = Epoll.input
        /// Whether the request being received was already sent `100 Continue` (sent at most once per request).
        var sentContinue = false

        init(descriptor: Int32, token: UInt64) {
            self.descriptor = descriptor
            self.token = token
        }

        var hasUnsentOutput: Bool { outputStart < output.count }

        var isBackpressured: Bool {
            output.count - outputStart > MockEventLoop.maximumBufferedOutput
                || pending.count >= MockEventLoop.maximumPendingResponses
        }
    }

    private let listenDescriptor: Int32
    private let wakeDescriptor: Int32
    private let epollDescriptor: Int32
    private let state: MockServerState
    private var responder: MockResponder
    private var connections: [UInt64: Connection] = [:]
    private var nextToken: UInt64 = 2
    private var timers = TimerHeap()
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Takes ownership of the listening socket and the epoll instance, which ``run()`` closes when it returns. The wake
    /// descriptor stays with its creator, which writes to it to stop the loop and closes it after joining the thread.
    init(
        listenDescriptor: Int32, wakeDescriptor: Int32, epollDescriptor: Int32, state: MockServerState,
        configuration: MockServerConfiguration
    ) {
        self.listenDescriptor = listenDescriptor
        self.wakeDescriptor = wakeDescriptor
        self.epollDescriptor = epollDescriptor
        self.state = state
        responder = MockResponder(configuration: configuration, state: state)
    }

    /// Serves until the wake descriptor becomes readable, then closes every connection.
    func run() {
        Epoll.add(epollDescriptor, descriptor: listenDescriptor, events: Epoll.input, token: Self.listenToken)
        Epoll.add(epollDescriptor, descriptor: wakeDescriptor, events: Epoll.input, token: Self.wakeToken)
        var events = Epoll.EventBuffer(capacity: 256)
        var running = true
        while running {
            let count = events.wait(epollDescriptor, timeoutMilliseconds: timeoutMilliseconds())
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<Int(count) {
                let (mask, token) = events.event(at: index)
                switch token {
                case Self.listenToken:
                    acceptConnections()
                case Self.wakeToken:
                    running = false
                default:
                    if let connection = connections[token] { service(connection, events: mask) }
                }
            }
            fireDueTimers()
        }
        for connection in Array(connections.values) { close(connection) }
        Glibc.close(listenDescriptor)
        Glibc.close(epollDescriptor)
    }

    // MARK: Accepting

    private func acceptConnections() {
        while true {
            let descriptor = LinuxLibc.acceptNonblocking(listenDescriptor)
            if descriptor < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // EAGAIN: drained. Anything else (EMFILE…): try again on the next readiness.
            }
            var on: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            let connection = Connection(descriptor: descriptor, token: nextToken)
            nextToken += 1
            guard Epoll.add(epollDescriptor, descriptor: descriptor, events: Epoll.input, token: connection.token) == 0
            else {
                Glibc.close(descriptor)
                continue
            }
            connections[connection.token] = connection
            state.recordConnection()
        }
    }

    // MARK: Connection I/O

    private func service(_ connection: Connection, events: UInt32) {
        // EPOLLHUP means both directions are shut: nothing can be answered any more (and, being reported whatever the
        // interest mask, it would otherwise wake the loop again and again).
        if events & (Epoll.error | Epoll.hangUp) != 0 {
            close(connection)
            return
        }
        if events & Epoll.input != 0 {
            guard readAvailable(connection) else { return }
        }
        drive(connection)
    }

    /// Reads what the socket has; returns false if the connection was closed.
    private func readAvailable(_ connection: Connection) -> Bool {
        while true {
            let received = readBuffer.withUnsafeMutableBytes {
                recv(connection.descriptor, $0.baseAddress, $0.count, 0)
            }
            if received > 0 {
                connection.input.append(contentsOf: readBuffer[0..<received])
                if received < readBuffer.count { return true }
            } else if received == 0 {
                connection.peerClosed = true
                return true
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return true
            } else {
                close(connection)
                return false
            }
        }
    }

    /// Parses what can be parsed, releases due responses in order, writes, and updates the epoll interest.
    private func drive(_ connection: Connection) {
        while true {
            let parsedAny = parseRequests(connection)
            releaseReadyResponses(connection)
            guard flush(connection) else { return }
            // Parsing may have stopped for backpressure that the write just relieved.
            guard parsedAny, connection.acceptsRequests, !connection.isBackpressured else { break }
        }
        if connection.peerClosed, connection.pending.isEmpty, !connection.hasUnsentOutput {
            close(connection)
            return
        }
        var wanted: UInt32 = 0
        if connection.acceptsRequests, !connection.peerClosed, !connection.isBackpressured { wanted |= Epoll.input }
        if connection.hasUnsentOutput { wanted |= Epoll.output }
        if wanted != connection.registeredEvents {
            connection.registeredEvents = wanted
            Epoll.modify(epollDescriptor, descriptor: connection.descriptor, events: wanted, token: connection.token)
        }
    }

    /// Turns complete requests in the input buffer into planned responses; returns whether any was parsed.
    private func parseRequests(_ connection: Connection) -> Bool {
        var parsedAny = false
        defer { compactInput(connection) }
        while connection.acceptsRequests, !connection.isBackpressured, connection.inputStart < connection.input.count {
            switch HTTPRequestParser.parse(connection.input, from: connection.inputStart) {
            case .incomplete:
                if connection.peerClosed { connection.acceptsRequests = false }
                return parsedAny
            case .awaitingBody(let expectsContinue):
                // The interim response may only go out when no earlier response is still pending.
                if expectsContinue, connection.pending.isEmpty, !connection.sentContinue {
                    connection.sentContinue = true
                    connection.output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
                }
                if connection.peerClosed { connection.acceptsRequests = false }
                return parsedAny
            case .request(let request, let consumed):
                connection.inputStart += consumed
                connection.sentContinue = false
                parsedAny = true
                enqueue(responder.respond(to: request, now: MonotonicClock.nanoseconds()), on: connection)
            case .invalid(let status, let message):
                connection.inputStart = connection.input.count
                parsedAny = true
                enqueue(responder.respondToInvalidRequest(status: status, message: message), on: connection)
            }
        }
        if connection.peerClosed { connection.acceptsRequests = false }
        return parsedAny
    }

    private func compactInput(_ connection: Connection) {
        if connection.inputStart == connection.input.count {
            connection.input.removeAll(keepingCapacity: connection.input.capacity <= 256 * 1024)
            connection.inputStart = 0
        } else if connection.inputStart > 64 * 1024 {
            connection.input.removeFirst(connection.inputStart)
            connection.inputStart = 0
        }
    }

    private func enqueue(_ response: PlannedResponse, on connection: Connection) {
        let sequence = connection.nextSequence
        connection.nextSequence += 1
        let ready = response.delayNanoseconds <= 0
        connection.pending.append(Connection.Pending(ready: ready, response: response))
        if !ready {
            timers.insert(
                deadline: MonotonicClock.nanoseconds() + UInt64(response.delayNanoseconds),
                connection: connection.token, sequence: sequence)
        }
        if response.disposition != .send(keepAlive: true) { connection.acceptsRequests = false }
    }

    /// Moves ready responses at the head of the queue into the output buffer (responses leave in request order).
    private func releaseReadyResponses(_ connection: Connection) {
        var released = 0
        defer {
            connection.pending.removeFirst(released)
            connection.firstSequence += UInt64(released)
        }
        for pending in connection.pending {
            guard pending.ready, !connection.closeAfterOutput else { return }
            released += 1
            let response = pending.response
            if let status = response.status { state.recordResponse(status: status) }
            switch response.disposition {
            case .send(let keepAlive):
                connection.output.append(contentsOf: response.bytes)
                if !keepAlive { connection.closeAfterOutput = true }
            case .truncate(let byteCount):
                connection.output.append(contentsOf: response.bytes[0..<min(byteCount, response.bytes.count)])
                connection.closeAfterOutput = true
            case .reset:
                connection.closeAfterOutput = true
                connection.resetOnClose = true
            }
        }
    }

    /// Writes as much output as the socket takes; returns false if the connection was closed.
    private func flush(_ connection: Connection) -> Bool {
        while connection.hasUnsentOutput {
            let sent = connection.output.withUnsafeBytes { raw in
                send(
                    connection.descriptor, raw.baseAddress! + connection.outputStart,
                    raw.count - connection.outputStart, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                connection.outputStart += sent
            } else if sent < 0, errno == EINTR {
                continue
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return true
            } else {
                close(connection)
                return false
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 1 << 20)
        connection.outputStart = 0
        if connection.closeAfterOutput {
            close(connection)
            return false
        }
        return true
    }

    private func close(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.token) != nil else { return }
        if connection.resetOnClose {
            // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            var option = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(
                connection.descriptor, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        } else {
            // Unread input at close() makes the kernel send RST, which can destroy the answer we
            // just wrote before the client reads it. Send FIN first, then discard what is left.
            _ = shutdown(connection.descriptor, Int32(SHUT_WR))
            var scratch = [UInt8](repeating: 0, count: 4096)
            while scratch.withUnsafeMutableBytes({ recv(connection.descriptor, $0.baseAddress, $0.count, 0) }) > 0 {}
        }
        Epoll.remove(epollDescriptor, descriptor: connection.descriptor)
        Glibc.close(connection.descriptor)
    }

    // MARK: Timers

    /// `epoll_wait` timeout: until the earliest response deadline, rounded up to a millisecond; −1 with none.
    private func timeoutMilliseconds() -> Int32 {
        guard let deadline = timers.nextDeadline else { return -1 }
        let now = MonotonicClock.nanoseconds()
        guard deadline > now else { return 0 }
        return Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    private func fireDueTimers() {
        guard !timers.isEmpty else { return }
        let now = MonotonicClock.nanoseconds()
        var touched: [Connection] = []
        while let entry = timers.popDue(now: now) {
            guard let connection = connections[entry.connection], entry.sequence >= connection.firstSequence else {
                continue
            }
            let index = Int(entry.sequence - connection.firstSequence)
            guard index < connection.pending.count else { continue }
            connection.pending[index].ready = true
            if index == 0 { touched.append(connection) }
        }
        for connection in touched where connections[connection.token] != nil { drive(connection) }
    }
}
