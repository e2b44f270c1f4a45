/// The unikernel's own network stack, as a job sees it (`NetworkStack`):
/// sockets whose calls park the calling task until the interface has what
/// they wait for. Under them, a task of its own ("net") takes the frames
/// the device received whenever its interrupt wakes it, answers them, runs
/// the interface's timers, and sleeps until the next one; the sockets'
/// calls send at once. Nothing here waits anywhere but in a task.
public final class IPStack<Network: NetworkInterface, C: Clock>: NetworkStack {
    public let interface: IPInterface<Network, C>
    /// The stub resolver behind `resolve`, with its cache.
    public let resolver: DNSStubResolver
    /// The boot key `--dns`'s servers; none: those the network names.
    let configuredNameServers: [NameServer]

    /// The "net" task's stack: the interface's deepest path is a TCP segment in an IPv6 packet.
    static var serviceStackSize: Int { 16 * 1024 }

    /// Brings the interface up (see `IPInterface.init` for the keys) and
    /// starts the "net" task; with `--ipv4 dhcp`, returns once the lease is
    /// ours, and stops with a message if no server answers. `nameServers`
    /// is the boot key `--dns` ("" for those DHCP and router advertisements
    /// name), `hosts` the boot key `--hosts` (names with fixed addresses).
    public init(network: Network, clock: C, random: any EntropyDevice, mode: String = "dual", address: String, gateway: String,
                ipv6: String = "off", ipv6Gateway: String = "", nameServers: String = "", hosts: String = "") {
        configuredNameServers = DNSStubResolver.nameServers(fromKey: nameServers)
        resolver = DNSStubResolver(random: random, hosts: DNSStubResolver.hosts(fromKey: hosts))
        let interface = IPInterface(network: network, clock: clock, random: random, mode: mode, address: address, gateway: gateway,
                                    ipv6: ipv6, ipv6Gateway: ipv6Gateway)
        self.interface = interface
        do throws(TaskError) {
            try Tasks.spawn(name: "net", stackSize: IPStack.serviceStackSize) { IPStack.serve(interface) }
        } catch {
            Runtime.fatal("cannot start the network's task: ", error.reason)
        }
        try? interface.leaseChanged.wait(until: { interface.dhcpSettled })
        if interface.dhcpFailed { Runtime.fatal("--ipv4 dhcp: no DHCP server answered") }
    }

    /// The "net" task: receive, answer, run the timers, sleep until the device or the next timer wakes it.
    static func serve(_ interface: IPInterface<Network, C>) {
        let network = interface.network, clock = interface.clock
        while true {
            // One reading of the clock a round: under QEMU each is a trip into the emulator.
            let now = clock.ticks()
            while let frame = network.receive() {
                for answer in interface.handle(frame, now: now) { try? network.transmit(answer) }
            }
            for frame in interface.poll(now: now) { try? network.transmit(frame) }
            do throws(WaitError) {
                try network.events.wait(deadline: interface.nextDeadline ?? .max)
            } catch {
                if error == .cancelled { return }
            }
        }
    }

    public var ipv4: IPv4Configuration? { interface.ipv4 }
    public var ipv6Addresses: [IPv6Address] { interface.ipv6Addresses }

    public var nameServers: [NameServer] {
        configuredNameServers.isEmpty ? interface.nameServers(now: interface.clock.ticks()).map { NameServer(address: $0) } : configuredNameServers
    }

    public func resolve(_ name: String, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [IPAddress] {
        try resolver.resolve(name, on: self, servers: nameServers, waitingAtMost: nanoseconds)
    }

    public func listen(tcpPort port: UInt16) throws(NetworkError) -> TCPListenerSocket<Network, C> {
        TCPListenerSocket(interface: interface, port: port, waiters: try interface.listenTCP(port: port))
    }

    public func connect(to peer: IPAddress, port: UInt16, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> TCPSocket<Network, C> {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        let connection = try interface.open(to: peer, port: port)
        let socket = TCPSocket(interface: interface, connection: connection)
        do throws(WaitError) {
            try connection.waiters.wait(until: { connection.state != .synSent && connection.state != .synReceived }, deadline: deadline)
        } catch {
            socket.abort()
            throw NetworkError(error)
        }
        guard connection.state == .established || connection.state == .closeWait else {
            let failure = connection.failure ?? .closed
            interface.release(connection)
            throw failure
        }
        return socket
    }

    public func bind(udpPort port: UInt16) throws(NetworkError) -> UDPSocketOfStack<Network, C> {
        UDPSocketOfStack(interface: interface, bound: try interface.bindUDP(port: port))
    }
}

/// A listening TCP port of the stack.
public final class TCPListenerSocket<Network: NetworkInterface, C: Clock>: TCPListener {
    let interface: IPInterface<Network, C>
    public let port: UInt16
    let waiters: WaitQueue
    var isOpen = true

    init(interface: IPInterface<Network, C>, port: UInt16, waiters: WaitQueue) {
        self.interface = interface
        self.port = port
        self.waiters = waiters
    }

    deinit { close() }

    public func accept(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> TCPSocket<Network, C> {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        while true {
            guard isOpen else { throw .closed }
            if let connection = interface.accept(on: port) { return TCPSocket(interface: interface, connection: connection) }
            do throws(WaitError) { try waiters.wait(deadline: deadline) } catch { throw NetworkError(error) }
        }
    }

    public func close() {
        guard isOpen else { return }
        isOpen = false
        interface.unlistenTCP(port: port)
    }
}

/// A TCP connection of the stack. Dropped without `close`, it closes (as a file descriptor would).
public final class TCPSocket<Network: NetworkInterface, C: Clock>: TCPStream {
    let interface: IPInterface<Network, C>
    /// The connection's state machine, for what the protocol does not show (its state, its buffers).
    public let connection: TCPConnection

    init(interface: IPInterface<Network, C>, connection: TCPConnection) {
        self.interface = interface
        self.connection = connection
    }

    deinit {
        guard !connection.isReleased else { return }
        interface.close(connection)
        interface.release(connection)
    }

    public var localAddress: IPAddress { connection.localAddress }
    public var localPort: UInt16 { connection.localPort }
    public var remoteAddress: IPAddress { connection.remoteAddress }
    public var remotePort: UInt16 { connection.remotePort }
    public var retransmissions: Int { connection.retransmittedSegments }

    public func read(atMost count: Int, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [UInt8]? {
        let connection = connection
        do throws(WaitError) {
            try connection.waiters.wait(until: { connection.hasData || connection.peerClosed || connection.state == .closed },
                                        deadline: Tasks.deadline(afterNanoseconds: nanoseconds))
        } catch {
            throw NetworkError(error)
        }
        if connection.hasData { return interface.read(connection, atMost: count) }
        if let failure = connection.failure { throw failure }
        return nil
    }

    public func write(_ bytes: ArraySlice<UInt8>, waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        let connection = connection
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            offset += try interface.offer(connection, bytes[offset...])
            guard offset < bytes.endIndex else { return }
            do throws(WaitError) {
                try connection.waiters.wait(until: { connection.sendSpace > 0 || connection.state == .closed || connection.failure != nil },
                                            deadline: deadline)
            } catch {
                throw NetworkError(error)
            }
        }
    }

    public func close(waitingAtMost nanoseconds: UInt64) {
        let connection = connection
        interface.close(connection)
        try? connection.waiters.wait(until: {
            connection.state == .closed || connection.state == .timeWait || connection.state == .finWait2
        }, deadline: Tasks.deadline(afterNanoseconds: nanoseconds))
        interface.release(connection)
    }

    public func abort() { interface.abort(connection) }
}

/// A bound UDP port of the stack.
public final class UDPSocketOfStack<Network: NetworkInterface, C: Clock>: UDPSocket {
    let interface: IPInterface<Network, C>
    let bound: UDPPort
    var isOpen = true

    init(interface: IPInterface<Network, C>, bound: UDPPort) {
        self.interface = interface
        self.bound = bound
    }

    deinit { close() }

    public var port: UInt16 { bound.port }

    public func receive(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> ReceivedDatagram {
        let bound = bound
        do throws(WaitError) {
            try bound.waiters.wait(until: { bound.hasDatagram || !isOpen }, deadline: Tasks.deadline(afterNanoseconds: nanoseconds))
        } catch {
            throw NetworkError(error)
        }
        guard let datagram = bound.take() else { throw .closed }
        return datagram
    }

    public func send(_ data: [UInt8], to peer: IPAddress, port: UInt16) throws(NetworkError) {
        try interface.sendUDP(data, to: peer, port: port, from: bound.port)
    }

    public func close() {
        guard isOpen else { return }
        isOpen = false
        interface.unbindUDP(bound)
    }
}
