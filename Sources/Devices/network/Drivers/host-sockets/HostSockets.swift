import Glibc

/// The host's TCP and UDP behind `NetworkStack`: the job's calls park its
/// task on a non-blocking socket until the host events say the socket is
/// ready, as the project's own stack parks it until a frame comes. Sockets
/// are IPv6 with IPv4 mapped in, so one listener takes both families.
public final class HostSockets: NetworkStack {
    public typealias Connection = HostTCPConnection
    public typealias Listener = HostTCPListener
    public typealias Datagrams = HostUDPSocket
    let events: HostEvents
    /// The stub resolver behind `resolve`, with its cache.
    public let resolver: DNSStubResolver
    public let nameServers: [NameServer]

    /// `clock`: the loop's, which the waits' deadlines are kept in. `nameServers`:
    /// the boot key `--dns`, "" for the host's own (/etc/resolv.conf's); `hosts`: `--hosts`.
    public init(tree: DeviceTree, path: StaticString, clock: some Clock, events: HostEvents, random: any EntropyDevice,
                nameServers: String = "", hosts: String = "") {
        self.events = events
        resolver = DNSStubResolver(random: random, hosts: DNSStubResolver.hosts(fromKey: hosts))
        let servers = DNSStubResolver.nameServers(fromKey: nameServers)
        self.nameServers = servers.isEmpty ? HostSockets.nameServers(inResolvConf: "/etc/resolv.conf") : servers
    }

    /// The `nameserver` lines of a resolv.conf(5), in order; a scoped address (fe80::1%eth0) is passed over.
    static func nameServers(inResolvConf path: String) -> [NameServer] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var servers: [NameServer] = []
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let words = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            if words.count >= 2, words[0] == "nameserver", let address = IPAddress(String(words[1])) {
                servers.append(NameServer(address: address))
            }
        }
        return servers
    }

    public func resolve(_ name: String, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [IPAddress] {
        try resolver.resolve(name, on: self, servers: nameServers, waitingAtMost: nanoseconds)
    }

    /// The host's addresses are the host's: the job is told none of its own.
    public var ipv4: IPv4Configuration? { nil }
    public var ipv6Addresses: [IPv6Address] { [] }

    public func listen(tcpPort port: UInt16) throws(NetworkError) -> HostTCPListener {
        let descriptor = try HostSocket.open(SOCK_STREAM, port: port)
        guard Glibc.listen(descriptor, 128) == 0 else {
            close(descriptor)
            throw .portInUse
        }
        return HostTCPListener(HostSocket(descriptor, events: events), port: port)
    }

    public func connect(to peer: IPAddress, port: UInt16, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> HostTCPConnection {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        let descriptor = Glibc.socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .noDevice }
        let socket = HostSocket(descriptor, events: events)
        var address = HostSocket.address(peer, port: port)
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        if started != 0 {
            guard errno == EINPROGRESS else { throw HostSocket.error(errno) }
            try socket.wait(writable: true, deadline: deadline)
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else { throw HostSocket.error(failure) }
        }
        return HostTCPConnection(socket)
    }

    public func bind(udpPort port: UInt16) throws(NetworkError) -> HostUDPSocket {
        HostUDPSocket(HostSocket(try HostSocket.open(SOCK_DGRAM, port: port), events: events), port: port)
    }
}

/// A non-blocking socket and the queue its waiting task parks on.
public final class HostSocket {
    let descriptor: Int32
    let events: HostEvents
    let ready = WaitQueue()
    var isClosed = false

    init(_ descriptor: Int32, events: HostEvents) {
        self.descriptor = descriptor
        self.events = events
    }

    deinit { if !isClosed { Glibc.close(descriptor) } }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        events.unwatch(descriptor: descriptor)
        Glibc.close(descriptor)
        ready.wakeAll()
    }

    /// Parks the task until the socket is readable (or writable), or the deadline (ticks).
    func wait(writable: Bool = false, deadline: UInt64) throws(NetworkError) {
        guard !isClosed else { throw .closed }
        let queue = ready
        events.watch(descriptor: descriptor, writable: writable) { queue.wakeAll() }
        defer { if !isClosed { events.unwatch(descriptor: descriptor) } }
        do { try ready.wait(deadline: deadline) } catch { throw NetworkError(error) }
        if isClosed { throw .closed }
    }

    /// A socket of `kind` on the host's every address (IPv6 and IPv4), bound to `port`.
    static func open(_ kind: __socket_type, port: UInt16) throws(NetworkError) -> Int32 {
        let descriptor = Glibc.socket(AF_INET6, Int32(kind.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .noDevice }
        var no: Int32 = 0, yes: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &no, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard bound == 0 else {
            Glibc.close(descriptor)
            throw .portInUse
        }
        return descriptor
    }

    /// `address`:`port` as an IPv6 socket address (IPv4 mapped into ::ffff:0:0/96).
    static func address(_ address: IPAddress, port: UInt16) -> sockaddr_in6 {
        var result = sockaddr_in6()
        result.sin6_family = sa_family_t(AF_INET6)
        result.sin6_port = port.bigEndian
        let bytes: [UInt8]
        switch address {
        case .v4(let value):
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let value):
            bytes = value.bytes
        }
        withUnsafeMutableBytes(of: &result.sin6_addr) { $0.copyBytes(from: bytes) }
        return result
    }

    /// The address and port in `address`, IPv4 when it is mapped.
    static func peer(_ address: sockaddr_in6) -> (IPAddress, UInt16) {
        let bytes = withUnsafeBytes(of: address.sin6_addr) { Array($0) }
        let port = UInt16(bigEndian: address.sin6_port)
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return (.v4(bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) }), port)
        }
        return (.v6(IPv6Address(bytes: bytes[...])), port)
    }

    /// The socket's own or its peer's address (`getsockname`, `getpeername`).
    func name(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> (IPAddress, UInt16) {
        var address = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(descriptor, $0, &length) } }
        return HostSocket.peer(address)
    }

    static func error(_ code: Int32) -> NetworkError {
        switch code {
        case ECONNREFUSED: return .refused
        case ECONNRESET, EPIPE: return .reset
        case ENETUNREACH, EHOSTUNREACH: return .unreachable
        case ETIMEDOUT: return .timedOut
        default: return .closed
        }
    }
}

public final class HostTCPListener: TCPListener {
    public let port: UInt16
    let socket: HostSocket

    init(_ socket: HostSocket, port: UInt16) {
        self.socket = socket
        self.port = port
    }

    public func accept(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> HostTCPConnection {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        while true {
            let descriptor = Glibc.accept(socket.descriptor, nil, nil)
            if descriptor >= 0 {
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
                return HostTCPConnection(HostSocket(descriptor, events: socket.events))
            }
            guard errno == EAGAIN || errno == EINTR || errno == ECONNABORTED else { throw HostSocket.error(errno) }
            try socket.wait(deadline: deadline)
        }
    }

    public func close() { socket.close() }
}

public final class HostTCPConnection: TCPStream {
    let socket: HostSocket
    public let localAddress: IPAddress, localPort: UInt16, remoteAddress: IPAddress, remotePort: UInt16
    /// The host's TCP retransmits; it does not say how often to a process.
    public var retransmissions: Int { 0 }

    init(_ socket: HostSocket) {
        self.socket = socket
        (localAddress, localPort) = socket.name { getsockname($0, $1, $2) }
        (remoteAddress, remotePort) = socket.name { getpeername($0, $1, $2) }
    }

    public func read(atMost count: Int, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [UInt8]? {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        var bytes = [UInt8](repeating: 0, count: max(1, min(count, 1 << 20)))
        while true {
            guard !socket.isClosed else { throw .closed }
            let received = bytes.withUnsafeMutableBytes { recv(socket.descriptor, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
            if received > 0 { return Array(bytes[0..<received]) }
            if received == 0 { return nil }
            guard errno == EAGAIN || errno == EINTR else { throw HostSocket.error(errno) }
            try socket.wait(deadline: deadline)
        }
    }

    public func write(_ bytes: ArraySlice<UInt8>, waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        var done = 0
        while done < bytes.count {
            guard !socket.isClosed else { throw .closed }
            let sent = bytes.withUnsafeBytes { send(socket.descriptor, $0.baseAddress! + done, $0.count - done, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if sent > 0 {
                done += sent
                continue
            }
            guard sent < 0, errno == EAGAIN || errno == EINTR else { throw HostSocket.error(errno) }
            try socket.wait(writable: true, deadline: deadline)
        }
    }

    /// Sends what is left and a FIN (the host's TCP finishes the close after the process lets go).
    public func close(waitingAtMost nanoseconds: UInt64) {
        guard !socket.isClosed else { return }
        shutdown(socket.descriptor, Int32(SHUT_WR))
        socket.close()
    }

    /// A reset: SO_LINGER with no time, then close.
    public func abort() {
        guard !socket.isClosed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket.descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        socket.close()
    }
}

public final class HostUDPSocket: UDPSocket {
    public let port: UInt16
    let socket: HostSocket

    init(_ socket: HostSocket, port: UInt16) {
        self.socket = socket
        self.port = port
    }

    public func receive(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> ReceivedDatagram {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        var bytes = [UInt8](repeating: 0, count: 65_536)
        while true {
            guard !socket.isClosed else { throw .closed }
            var source = sockaddr_in6()
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let received = bytes.withUnsafeMutableBytes { buffer in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(socket.descriptor, buffer.baseAddress!, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
                    }
                }
            }
            if received >= 0 {
                let (address, port) = HostSocket.peer(source)
                return ReceivedDatagram(source: address, sourcePort: port, data: Array(bytes[0..<received]))
            }
            guard errno == EAGAIN || errno == EINTR else { throw HostSocket.error(errno) }
            try socket.wait(deadline: deadline)
        }
    }

    public func send(_ data: [UInt8], to peer: IPAddress, port: UInt16) throws(NetworkError) {
        var address = HostSocket.address(peer, port: port)
        let sent = data.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket.descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard sent == data.count else { throw HostSocket.error(errno) }
    }

    public func close() { socket.close() }
}
