/// A network interface: Ethernet frames in and out (virtio-net, the A10
/// EMAC). The stack sits on it; a job talks to the stack.
public protocol NetworkInterface: AnyObject {
    /// Its Ethernet address.
    var macAddress: MACAddress { get }
    /// Sends one frame (destination, source, type, payload; no FCS), without
    /// waiting for the device: a full transmit queue throws `.timedOut` and
    /// the frame is lost, as on a busy wire.
    func transmit(_ frame: [UInt8]) throws(NetworkError)
    /// The next frame received, if one is waiting.
    func receive() -> [UInt8]?
    /// Woken by the device's interrupt: frames arrived (or a transmit slot freed).
    var events: WaitQueue { get }
    /// The TCP work the device does for the stack (none unless it says so).
    var offloads: NetworkOffloads { get }
}

extension NetworkInterface {
    public var offloads: NetworkOffloads { NetworkOffloads() }
}

/// TCP work a network device takes off the stack, as virtio-net's CSUM and
/// HOST_TSO4/6 features do over a TAP device (QEMU's user network offers
/// neither). Under emulation every guest instruction costs: a checksum the
/// device completes is one pass less over each byte, and a segment the
/// device cuts is one trip down the stack for many frames.
public struct NetworkOffloads: Equatable {
    /// The device completes every TCP checksum: the stack writes only the
    /// pseudo-header's sum (folded, not complemented) in the checksum field.
    public var tcpChecksums: Bool
    /// The device cuts a TCP packet longer than the link's 1500-byte MTU
    /// into 1500-byte packets with the same headers, payloads in order, the
    /// FIN and PSH flags on the last; up to this many bytes of TCP payload
    /// (0: it cuts nothing). The stack sends such packets only where its
    /// segments are the MTU's size, so that the cut ones are its own.
    public var tcpSegmentation: Int

    public init(tcpChecksums: Bool = false, tcpSegmentation: Int = 0) {
        self.tcpChecksums = tcpChecksums
        self.tcpSegmentation = tcpSegmentation
    }
}

/// What a job sees of the network, as MirageOS's `Tcpip.Stack`: TCP
/// listeners and connections and UDP sockets over IPv4 and IPv6. Every call
/// that waits parks the calling task, with a time limit (`waitingAtMost`,
/// nanoseconds; `.max` for none), and ends with `.cancelled` if the task is
/// cancelled. The unikernel's own stack (IPStack) is one implementation; a
/// job written against this protocol runs on any.
public protocol NetworkStack: AnyObject {
    associatedtype Connection: TCPStream
    associatedtype Listener: TCPListener where Listener.Connection == Connection
    associatedtype Datagrams: UDPSocket

    /// Accepts TCP connections to `port` (on every address of the host).
    func listen(tcpPort port: UInt16) throws(NetworkError) -> Listener
    /// Opens a TCP connection to `peer`:`port` from an ephemeral port.
    func connect(to peer: IPAddress, port: UInt16, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection
    /// Receives and sends UDP datagrams on `port`.
    func bind(udpPort port: UInt16) throws(NetworkError) -> Datagrams
    /// The IPv4 address, prefix, router and DHCP server in use; nil without IPv4.
    var ipv4: IPv4Configuration? { get }
    /// The IPv6 addresses in use (link-local first), past duplicate address detection.
    var ipv6Addresses: [IPv6Address] { get }
    /// The name servers `resolve` asks, in order: those of the boot key
    /// `--dns`, else those the network named (DHCP's option 6, router
    /// advertisements' RDNSS; the host's sockets: /etc/resolv.conf's).
    var nameServers: [NameServer] { get }
    /// The addresses of the host `name` (or of an address's text, itself),
    /// of the families the stack speaks, in the order to try them (RFC
    /// 6724), asked of `nameServers` (A and AAAA, CNAMEs followed) or
    /// remembered for their TTL. Throws `.nameNotFound` when the name has no
    /// addresses, `.timedOut` when no server answered in time.
    func resolve(_ name: String, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [IPAddress]
}

/// A DNS server to ask: an address and a port (53 unless said).
public struct NameServer: Equatable {
    public let address: IPAddress
    public let port: UInt16

    public init(address: IPAddress, port: UInt16 = 53) {
        self.address = address
        self.port = port
    }

    /// "10.0.2.3", "10.0.2.2:5353", "2001:db8::1" or "[2001:db8::1]:5353".
    public init?(_ text: String) {
        var host = Substring(text), port: UInt16 = 53
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = UInt16(rest.dropFirst()), number > 0 else { return nil }
                port = number
            }
            guard case .v6 = IPAddress(String(host)) else { return nil }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let number = UInt16(host[host.index(after: colon)...]), number > 0 else { return nil }
            port = number
            host = host[..<colon]
        }
        guard let address = IPAddress(String(host)) else { return nil }
        self.init(address: address, port: port)
    }

    /// A comma-separated list of them ("" is none); nil if one does not parse.
    public static func list(_ text: String) -> [NameServer]? {
        if text.isEmpty { return [] }
        var servers: [NameServer] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let server = NameServer(String(part.filter { $0 != " " })) else { return nil }
            servers.append(server)
        }
        return servers
    }

    /// "10.0.2.3" (port 53), "10.0.2.2:5353", "[2001:db8::1]:5353".
    public var text: String {
        if port == 53 { return address.text }
        if case .v6 = address { return "[\(address.text)]:\(port)" }
        return "\(address.text):\(port)"
    }
}

/// A port that accepts TCP connections.
public protocol TCPListener: AnyObject {
    associatedtype Connection: TCPStream
    var port: UInt16 { get }
    /// The next connection made to the port, waiting for one.
    func accept(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection
    /// Stops accepting; connections not yet accepted are reset.
    func close()
}

/// One TCP connection, a byte stream each way.
public protocol TCPStream: AnyObject {
    var localAddress: IPAddress { get }
    var localPort: UInt16 { get }
    var remoteAddress: IPAddress { get }
    var remotePort: UInt16 { get }
    /// At most `count` bytes, waiting until some arrive; nil once the peer
    /// has closed its side and everything is read.
    func read(atMost count: Int, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [UInt8]?
    /// Sends all of `bytes`, waiting for room in the send buffer.
    func write(_ bytes: ArraySlice<UInt8>, waitingAtMost nanoseconds: UInt64) throws(NetworkError)
    /// Closes our side once what is buffered is sent, waiting at most
    /// `nanoseconds` for the peer to acknowledge; the connection is done with.
    func close(waitingAtMost nanoseconds: UInt64)
    /// Drops the connection with a reset.
    func abort()
    /// Segments sent again so far (iperf3 reports them).
    var retransmissions: Int { get }
}

extension TCPStream {
    /// Sends all of `bytes`.
    public func write(_ bytes: [UInt8], waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        try write(bytes[...], waitingAtMost: nanoseconds)
    }
}

/// A bound UDP port.
public protocol UDPSocket: AnyObject {
    var port: UInt16 { get }
    /// The next datagram received, waiting for one.
    func receive(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> ReceivedDatagram
    /// Sends `data` to `peer`:`port` from this socket's port.
    func send(_ data: [UInt8], to peer: IPAddress, port: UInt16) throws(NetworkError)
    /// Stops receiving on the port.
    func close()
}

/// A datagram received on a bound port.
public struct ReceivedDatagram: Equatable {
    public let source: IPAddress
    public let sourcePort: UInt16
    public let data: [UInt8]

    public init(source: IPAddress, sourcePort: UInt16, data: [UInt8]) {
        self.source = source
        self.sourcePort = sourcePort
        self.data = data
    }
}

public enum NetworkError: Error, Equatable {
    /// No device is attached.
    case noDevice
    /// The frame is larger than the device sends, or smaller than a header.
    case badFrame
    /// The device did not take the frame in time, or the peer stopped answering, or the wait's time limit passed.
    case timedOut
    /// No route to the address, or nobody answered ARP for it.
    case unreachable
    /// The port is taken, or is 0.
    case portInUse
    /// The connection is closed.
    case closed
    /// The peer reset the connection.
    case reset
    /// Nobody listens on that port: the peer answered the SYN with a reset.
    case refused
    /// The waiting task was cancelled.
    case cancelled
    /// TLS failed: the handshake, a record, or an alert from the peer (the
    /// connection's `alert` says which).
    case tlsFailed
    /// The TLS device has no usable certificate and key (the console said why at boot).
    case noCredentials
    /// The name has no addresses: no such name (NXDOMAIN), or none of the families asked (NODATA).
    case nameNotFound
    /// The text is neither a host name nor an address.
    case badName
    /// There is no name server to ask: none by the boot key `--dns`, none from the network.
    case noNameServers
    /// Every name server asked failed to answer (SERVFAIL, REFUSED, ...).
    case nameServerFailed

    public var reason: StaticString {
        switch self {
        case .noDevice: return "no network device"
        case .badFrame: return "frame too large or too small"
        case .timedOut: return "timed out"
        case .unreachable: return "no route, or no ARP answer"
        case .portInUse: return "port in use"
        case .closed: return "connection closed"
        case .reset: return "connection reset by the peer"
        case .refused: return "connection refused"
        case .cancelled: return "cancelled"
        case .tlsFailed: return "TLS handshake or record failed"
        case .noCredentials: return "no TLS certificate and key"
        case .nameNotFound: return "no such name, or no address for it"
        case .badName: return "not a host name or an address"
        case .noNameServers: return "no name server to ask"
        case .nameServerFailed: return "the name servers failed to answer"
        }
    }

    /// A wait's end as a network error.
    public init(_ error: WaitError) {
        self = error == .cancelled ? .cancelled : .timedOut
    }
}

extension TCPListener {
    /// Accepts connections until `done()`, each served by a task of its own
    /// (`name`, `stackSize`), so that a slow or idle client holds up only
    /// itself; a connection no task can be made for is reset, and said so.
    /// Looks at `done()` at least every half second. Returns the tasks still
    /// running, for the caller to join or cancel.
    public func serveEach(name: StaticString, stackSize: Int = Tasks.defaultStackSize, until done: () -> Bool,
                          _ serve: @escaping (Connection) -> Void) -> [TaskHandle] {
        var tasks: [TaskHandle] = []
        while !done() {
            guard let connection = try? accept(waitingAtMost: 500_000_000) else { continue }
            do throws(TaskError) {
                tasks.append(try Tasks.spawn(name: name, stackSize: stackSize) { serve(connection) })
            } catch {
                print("no room for another connection's task: \(error.reason.text)")
                connection.abort()
            }
            tasks.removeAll { $0.isFinished }
        }
        return tasks.filter { !$0.isFinished }
    }
}
