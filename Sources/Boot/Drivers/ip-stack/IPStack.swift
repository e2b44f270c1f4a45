/// An IPv4 host on one network interface: it answers ARP requests for its
/// address (and announces it once, gratuitously), keeps an ARP cache of
/// what it hears, answers ICMP echo requests, and sends and receives UDP
/// datagrams on bound ports (others get ICMP port unreachable). Everything malformed is
/// counted and dropped. `handle` is pure (frames in, frames out, a time),
/// so the stack is tested on the host with a fake clock; `serve` runs it
/// on the device, asleep in `wfi` between frames.
public final class IPStack<Network: NetworkInterface, C: Clock> {
    public let network: Network
    public let clock: C
    /// IPv4 is spoken (`--ip-mode` ipv4 or dual).
    public let ipv4Enabled: Bool
    public private(set) var address: UInt32
    public private(set) var prefixLength: Int
    public private(set) var gateway: UInt32?
    /// Configured by DHCP (`--ipv4 dhcp`): the server, and when to renew the lease (ticks).
    public private(set) var dhcpServer: UInt32?
    var renewAt: UInt64?
    var dhcpTransaction: UInt32 = 0
    /// The DHCP answers received and not yet looked at.
    var dhcpInbox: [DHCPMessage] = []
    /// IPv4 address to Ethernet address, with when the entry expires.
    var arpCache: [(address: UInt32, mac: [UInt8], expires: UInt64)] = []
    var identification: UInt16 = 0
    /// The address an ARP request of ours is out for.
    var awaitingReply: UInt32?
    public private(set) var echoRepliesSent = 0
    public internal(set) var framesDropped = 0
    /// TCP ports listened on, and the connections (RFC 9293, passive opens).
    var tcpListening: [UInt16] = []
    public internal(set) var tcpConnections: [TCPConnection] = []
    /// RFC 6528's secret: initial sequence numbers are a clock plus a keyed hash of the connection's addresses.
    let sequenceSecret: [UInt8]
    /// A xorshift generator seeded from the entropy device, for ephemeral ports and DHCP transactions.
    var portState: UInt64
    var reassembly = Reassembly<IPv4FragmentKey, IPv4Packet>()
    /// IPv6 beside IPv4 (IPv6Layer.swift), and the address a neighbour solicitation of ours is out for.
    var ipv6 = IPv6State()
    var awaitingNeighbor: IPv6Address?
    static var reassemblySeconds: Int { 30 }
    /// Connections not yet accepted, per port, beyond which SYNs are dropped.
    static var backlog: Int { 32 }
    /// Connections in TIME-WAIT kept at most (Linux's tcp_max_tw_buckets, scaled down): the oldest goes first.
    static var timeWaitLimit: Int { 128 }
    /// Bound UDP ports, each with the datagrams received and not yet taken.
    var udpPorts: [(port: UInt16, queue: [ReceivedDatagram])] = []
    static var udpQueueLimit: Int { 64 }

    static var arpLifetime: UInt64 { 60_000_000_000 }
    static var arpCacheSize: Int { 64 }

    /// `address` as "a.b.c.d/prefix" or "dhcp", `gateway` as "a.b.c.d" or
    /// "" (none; with DHCP, the server's router); stops with a message if they
    /// do not parse, or if DHCP finds no server.
    /// `mode` is "ipv4", "ipv6" or "dual" (the configure-time key `--ip-mode`); `ipv6` is
    /// "auto", "off" or "ADDRESS/LENGTH" and `ipv6Gateway` an address or "" (the boot keys).
    public init(network: Network, clock: C, random: any EntropyDevice, mode: String = "dual", address: String, gateway: String,
                ipv6: String = "off", ipv6Gateway: String = "") {
        self.network = network
        self.clock = clock
        sequenceSecret = random.bytes(32)
        portState = littleEndianWords(random.bytes(8)).reduce(0) { $0 << 32 | UInt64($1) } | 1
        ipv4Enabled = mode != "ipv6"
        self.address = 0
        prefixLength = 0
        self.gateway = nil
        if mode != "ipv4" {
            if mode == "ipv6" && ipv6 == "off" { Runtime.fatal("--ip-mode ipv6 speaks IPv6 only: the boot-time key --ipv6 cannot be off") }
            startIPv6(ipv6, gateway: ipv6Gateway)
        }
        guard ipv4Enabled else { return }
        if address == "dhcp" {
            dhcpTransaction = UInt32(truncatingIfNeeded: nextRandom())
            guard obtainLease() else { Runtime.fatal("--ipv4 dhcp: no DHCP server answered") }
        } else {
            guard let parsed = IPv4Text.prefixed(address) else {
                Runtime.fatal("the boot-time key --ipv4 is not an address/prefix such as 10.0.2.15/24, or dhcp: ", text: address)
            }
            self.address = parsed.address
            prefixLength = parsed.prefixLength
            if !gateway.isEmpty {
                guard let router = IPv4Text.address(gateway) else {
                    Runtime.fatal("the boot-time key --ipv4-gateway is not an address such as 10.0.2.2: ", text: gateway)
                }
                self.gateway = router
            }
        }
        try? network.transmit(announcement())
    }

    /// A gratuitous ARP request for our own address.
    func announcement() -> [UInt8] {
        let arp = ARPPacket(operation: ARPPacket.request, senderMAC: network.macAddress, senderIP: address,
                            targetMAC: [0, 0, 0, 0, 0, 0], targetIP: address)
        return EthernetFrame.emit(destination: EthernetFrame.broadcast, source: network.macAddress, etherType: EthernetFrame.arp,
                                  payload: arp.emit())
    }

    /// The Ethernet address cached for `ip`, if fresh.
    public func cachedMAC(for ip: UInt32, now: UInt64) -> [UInt8]? {
        arpCache.first { $0.address == ip && $0.expires > now }?.mac
    }

    func learn(_ ip: UInt32, _ mac: [UInt8], now: UInt64) {
        guard ip != 0, mac != EthernetFrame.broadcast else { return }
        arpCache.removeAll { $0.address == ip || $0.expires <= now }
        if arpCache.count >= IPStack.arpCacheSize { arpCache.removeFirst() }
        arpCache.append((ip, mac, now &+ IPStack.arpLifetime))
    }

    /// The frames to send in answer to `frame`, received at `now` (ticks).
    public func handle(_ frame: [UInt8], now: UInt64) -> [[UInt8]] {
        guard let ethernet = EthernetFrame(parsing: frame),
              ethernet.destination == network.macAddress || ethernet.destination == EthernetFrame.broadcast
                || acceptsIPv6Multicast(ethernet.destination) else {
            framesDropped += 1
            return []
        }
        switch ethernet.etherType {
        case EthernetFrame.arp where ipv4Enabled:
            guard let arp = ARPPacket(parsing: ethernet.payload) else { framesDropped += 1; return [] }
            if arp.targetIP == address || arp.senderIP == awaitingReply || cachedMAC(for: arp.senderIP, now: now) != nil {
                learn(arp.senderIP, arp.senderMAC, now: now)
            }
            guard arp.operation == ARPPacket.request, arp.targetIP == address, arp.senderIP != address else { return [] }
            let reply = ARPPacket(operation: ARPPacket.reply, senderMAC: network.macAddress, senderIP: address,
                                  targetMAC: arp.senderMAC, targetIP: arp.senderIP)
            return [EthernetFrame.emit(destination: arp.senderMAC, source: network.macAddress, etherType: EthernetFrame.arp,
                                       payload: reply.emit())]
        case EthernetFrame.ipv4 where ipv4Enabled:
            guard let ip = IPv4Packet(parsing: ethernet.payload),
                  ip.destination == address || ip.destination == 0xFFFF_FFFF || address == 0 else { framesDropped += 1; return [] }
            if ip.protocolNumber == IPv4Packet.udp, let udp = UDPDatagram(parsing: ip.payload, source: ip.source, destination: ip.destination),
               udp.destinationPort == DHCPMessage.clientPort {
                if let message = DHCPMessage(parsing: udp.data), message.operation == 2, message.transaction == dhcpTransaction,
                   message.hardwareAddress == network.macAddress {
                    dhcpInbox.append(message)
                }
                return []
            }
            guard ip.destination == address, address != 0 else { framesDropped += 1; return [] }
            if ip.isFragment {
                let lifetime = UInt64(IPStack.reassemblySeconds) * clock.frequency
                guard let whole = reassembly.add(ip, now: now, lifetime: lifetime) else { return [] }
                return handleDatagram(whole, from: ethernet, now: now)
            }
            return handleDatagram(ip, from: ethernet, now: now)
        case EthernetFrame.ipv6:
            return handleIPv6(ethernet, now: now)
        default:
            framesDropped += 1
            return []
        }
    }

    /// A whole datagram for this host: to UDP, TCP or ICMP.
    func handleDatagram(_ ip: IPv4Packet, from ethernet: EthernetFrame, now: UInt64) -> [[UInt8]] {
        if ip.protocolNumber == IPv4Packet.udp { return handleUDP(ip, from: ethernet) }
        if ip.protocolNumber == IPv4Packet.tcp {
            return handleTCP(ip.payload, from: .v4(ip.source), to: .v4(ip.destination), mac: ethernet.source, now: now)
        }
        guard ip.protocolNumber == IPv4Packet.icmp,
              let echo = ICMPEcho(parsing: ip.payload), echo.type == ICMPEcho.request else { framesDropped += 1; return [] }
        let reply = ICMPEcho(type: ICMPEcho.reply, identifier: echo.identifier, sequence: echo.sequence, data: echo.data)
        echoRepliesSent += 1
        // Answer the Ethernet address the request came from, as hosts do for on-link peers.
        return [ipv4Frame(to: ip.source, mac: ethernet.source, protocolNumber: IPv4Packet.icmp, payload: reply.emit())]
    }

    /// A datagram for a bound port: queued, or ICMP port unreachable.
    func handleUDP(_ ip: IPv4Packet, from ethernet: EthernetFrame) -> [[UInt8]] {
        guard let udp = UDPDatagram(parsing: ip.payload, source: ip.source, destination: ip.destination) else {
            framesDropped += 1
            return []
        }
        guard deliver(udp, from: .v4(ip.source)) else {
            return [ipv4Frame(to: ip.source, mac: ethernet.source, protocolNumber: IPv4Packet.icmp,
                              payload: ICMPUnreachable.emit(code: ICMPUnreachable.port, quoting: ethernet.payload))]
        }
        return []
    }

    /// Queues a datagram on its port; false if nobody has bound the port.
    func deliver(_ udp: UDPDatagram, from peer: IPAddress) -> Bool {
        guard let index = udpPorts.firstIndex(where: { $0.port == udp.destinationPort }) else { return false }
        if udpPorts[index].queue.count < IPStack.udpQueueLimit {
            udpPorts[index].queue.append(ReceivedDatagram(source: peer, sourcePort: udp.sourcePort, data: udp.data))
        } else {
            framesDropped += 1
        }
        return true
    }

    /// Starts receiving datagrams on UDP `port`.
    public func bindUDP(port: UInt16) throws(NetworkError) {
        guard port != 0, !udpPorts.contains(where: { $0.port == port }) else { throw .portInUse }
        udpPorts.append((port, []))
    }

    /// A datagram waits on `port`.
    public func hasDatagram(on port: UInt16) -> Bool {
        udpPorts.contains { $0.port == port && !$0.queue.isEmpty }
    }

    /// The next datagram received on `port`, waiting for one at most `nanoseconds`.
    public func receiveUDP(on port: UInt16, waitingAtMost nanoseconds: UInt64) -> ReceivedDatagram? {
        guard let index = udpPorts.firstIndex(where: { $0.port == port }) else { return nil }
        serve(forAtMost: nanoseconds) { !udpPorts[index].queue.isEmpty }
        return udpPorts[index].queue.isEmpty ? nil : udpPorts[index].queue.removeFirst()
    }

    /// Sends `data` from UDP `sourcePort` to `destination`:`port`, first
    /// finding the next hop's Ethernet address by ARP (three tries, a second each).
    public func sendUDP(_ data: [UInt8], to peer: IPAddress, port: UInt16, from sourcePort: UInt16) throws(NetworkError) {
        let datagram = UDPDatagram(sourcePort: sourcePort, destinationPort: port, data: data)
        guard case .v4(let destination) = peer else {
            guard case .v6(let destination) = peer else { throw .unreachable }
            guard data.count <= 1452 else { throw .badFrame }   // 1500 less the IPv6 and UDP headers
            let (source, mac) = try route(ipv6: destination)
            try network.transmit(ipv6Frame(from: source, to: destination, mac: mac, nextHeader: IPv6Packet.udp,
                                           payload: datagram.emit(between: .v6(source: source, destination: destination))))
            return
        }
        guard ipv4Enabled else { throw .unreachable }
        guard data.count <= 1472 else { throw .badFrame }
        let mac = try resolve(nextHop(for: destination))
        let udp = datagram.emit(source: address, destination: destination)
        try network.transmit(ipv4Frame(to: destination, mac: mac, protocolNumber: IPv4Packet.udp, payload: udp))
    }

    /// Where a datagram for `destination` goes first: itself if on the local network, else the gateway.
    func nextHop(for destination: UInt32) throws(NetworkError) -> UInt32 {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        if destination & mask == address & mask { return destination }
        guard let gateway else { throw .unreachable }
        return gateway
    }

    /// The Ethernet address of `ip`, asking by ARP if it is not cached.
    func resolve(_ ip: UInt32) throws(NetworkError) -> [UInt8] {
        awaitingReply = ip
        defer { awaitingReply = nil }
        let request = ARPPacket(operation: ARPPacket.request, senderMAC: network.macAddress, senderIP: address,
                                targetMAC: [0, 0, 0, 0, 0, 0], targetIP: ip)
        return try resolve(cached: { cachedMAC(for: ip, now: clock.ticks()) },
                           asking: EthernetFrame.emit(destination: EthernetFrame.broadcast, source: network.macAddress,
                                                      etherType: EthernetFrame.arp, payload: request.emit()))
    }

    /// A neighbour's MAC, as ARP and neighbour discovery both find it: from
    /// the cache, else by sending `question` once a second, three times, and
    /// serving frames in between until the answer is cached.
    func resolve(cached: () -> [UInt8]?, asking question: [UInt8]) throws(NetworkError) -> [UInt8] {
        for _ in 0..<3 {
            if let mac = cached() { return mac }
            try network.transmit(question)
            serve(forAtMost: 1_000_000_000) { cached() != nil }
        }
        if let mac = cached() { return mac }
        throw .unreachable
    }

    // MARK: DHCP

    /// DISCOVER, OFFER, REQUEST, ACK (RFC 2131 3.1), four tries of each step
    /// with growing waits; true once the lease is ours.
    func obtainLease() -> Bool {
        for attempt in 0..<4 {
            let wait = UInt64(1 + attempt) * 1_000_000_000
            sendDHCP(DHCPMessage(type: DHCPMessage.discover, transaction: dhcpTransaction, hardwareAddress: network.macAddress))
            guard let offer = awaitDHCP(DHCPMessage.offer, forAtMost: wait), offer.yourAddress != 0 else { continue }
            var request = DHCPMessage(type: DHCPMessage.request, transaction: dhcpTransaction, hardwareAddress: network.macAddress)
            request.requestedAddress = offer.yourAddress
            request.server = offer.server
            sendDHCP(request)
            if let acknowledgment = awaitDHCP(DHCPMessage.acknowledge, forAtMost: wait) {
                apply(acknowledgment)
                return true
            }
        }
        return false
    }

    /// Takes the address, mask, router and lease an ACK gives.
    func apply(_ acknowledgment: DHCPMessage) {
        address = acknowledgment.yourAddress
        let mask = acknowledgment.subnetMask ?? 0xFFFF_FF00
        prefixLength = mask.nonzeroBitCount
        gateway = acknowledgment.router
        dhcpServer = acknowledgment.server
        let lease = UInt64(acknowledgment.leaseSeconds ?? 3600)
        renewAt = clock.ticks() &+ clock.ticks(forNanoseconds: lease / 2 * 1_000_000_000)
    }

    /// Renews the lease at half its time (RFC 2131 4.4.5, T1): a REQUEST to the server.
    func renewIfDue(now: UInt64) {
        guard let due = renewAt, now >= due, dhcpServer != nil else { return }
        renewAt = now &+ clock.ticks(forNanoseconds: 60_000_000_000)   // again in a minute until acknowledged
        var request = DHCPMessage(type: DHCPMessage.request, transaction: dhcpTransaction, hardwareAddress: network.macAddress)
        request.clientAddress = address
        sendDHCP(request)
    }

    func sendDHCP(_ message: DHCPMessage) {
        let udp = UDPDatagram(sourcePort: DHCPMessage.clientPort, destinationPort: DHCPMessage.serverPort, data: message.emit())
        try? network.transmit(ipv4Frame(to: 0xFFFF_FFFF, mac: EthernetFrame.broadcast, protocolNumber: IPv4Packet.udp,
                                        payload: udp.emit(source: address, destination: 0xFFFF_FFFF)))
    }

    func awaitDHCP(_ type: UInt8, forAtMost nanoseconds: UInt64) -> DHCPMessage? {
        dhcpInbox.removeAll()
        serve(forAtMost: nanoseconds) { dhcpInbox.contains { $0.type == type || $0.type == DHCPMessage.negative } }
        defer { dhcpInbox.removeAll() }   // taken: the serve loop must not take it for a renewal's answer
        return dhcpInbox.first { $0.type == type }
    }

    /// Receives and answers frames, and sends what TCP has to send, until
    /// `done()` holds or `nanoseconds` pass; asleep in `wfi` between frames
    /// (and waking at least every 100 ms for TCP's timers). Returns whether `done()` held.
    @discardableResult
    public func serve(forAtMost nanoseconds: UInt64, until done: () -> Bool = { false }) -> Bool {
        let end = clock.ticks() &+ clock.ticks(forNanoseconds: nanoseconds)
        let slice = clock.ticks(forNanoseconds: 100_000_000)
        while true {
            while let frame = network.receive() {
                for answer in handle(frame, now: clock.ticks()) { try? network.transmit(answer) }
            }
            for frame in pollTCP(now: clock.ticks()) { try? network.transmit(frame) }
            for frame in pollIPv6(now: clock.ticks()) { try? network.transmit(frame) }
            if let ack = dhcpInbox.first(where: { $0.type == DHCPMessage.acknowledge }), renewAt != nil {
                apply(ack)   // a renewal answered
                dhcpInbox.removeAll()
            }
            renewIfDue(now: clock.ticks())
            if done() { return true }
            let now = clock.ticks()
            if now >= end { return false }
            var wake = min(end, now &+ slice)
            for connection in tcpConnections { if let deadline = connection.nextDeadline { wake = min(wake, deadline) } }
            if let deadline = nextIPv6Deadline { wake = min(wake, deadline) }
            if wake > now { clock.waitForInterrupt(orTicks: wake) }
        }
    }

    // MARK: TCP

    /// A TCP segment from `peer` to our `local` address, either family, sent from the Ethernet address `mac`.
    func handleTCP(_ bytes: ArraySlice<UInt8>, from peer: IPAddress, to local: IPAddress, mac: [UInt8], now: UInt64) -> [[UInt8]] {
        guard let segment = TCPSegment(parsing: bytes, between: AddressPair(source: peer, destination: local)) else {
            framesDropped += 1
            return []
        }
        if let connection = tcpConnections.first(where: {
            $0.localPort == segment.destinationPort && $0.remoteAddress == peer && $0.remotePort == segment.sourcePort
                && $0.state != .closed
        }) {
            // RFC 9293 3.6.1: a new SYN beyond the old connection's sequence numbers may reopen it from TIME-WAIT.
            let reopens = connection.state == .timeWait && segment.has(TCPSegment.syn) && !segment.has(TCPSegment.ack)
                && TCPConnection.after(segment.sequence, connection.receiveNext)
            if !reopens {
                connection.remoteMAC = mac
                return connection.receive(segment, now: now).map { frame(for: $0, to: connection) }
            }
            tcpConnections.removeAll { $0 === connection }
        }
        if segment.has(TCPSegment.syn), !segment.has(TCPSegment.ack), !segment.has(TCPSegment.rst),
           tcpListening.contains(segment.destinationPort) {
            let waiting = tcpConnections.filter {
                $0.localPort == segment.destinationPort && !$0.isAccepted
                    && ($0.state == .synReceived || $0.state == .established || $0.state == .closeWait)
            }
            guard waiting.count < IPStack.backlog else { framesDropped += 1; return [] }
            let connection = TCPConnection(syn: segment, localPort: segment.destinationPort, remoteAddress: peer,
                                           initialSequence: initialSequence(localPort: segment.destinationPort, remote: peer,
                                                                            remotePort: segment.sourcePort, now: now),
                                           now: now, ticksPerSecond: clock.frequency)
            connection.remoteMAC = mac
            connection.localAddress = local
            add(connection, now: now)
            return [frame(for: connection.synAcknowledgment(now: now), to: connection)]
        }
        guard !segment.has(TCPSegment.rst) else { return [] }
        // Nobody here: a reset (RFC 9293 3.10.7.1).
        let reset = segment.has(TCPSegment.ack)
            ? TCPSegment(sourcePort: segment.destinationPort, destinationPort: segment.sourcePort, sequence: segment.acknowledgment,
                         acknowledgment: 0, flags: TCPSegment.rst, window: 0)
            : TCPSegment(sourcePort: segment.destinationPort, destinationPort: segment.sourcePort, sequence: 0,
                         acknowledgment: segment.sequence &+ segment.length, flags: TCPSegment.rst | TCPSegment.ack, window: 0)
        return [wrap(reset, from: local, to: peer, mac: mac)]
    }

    /// Keeps a new connection, forgetting closed ones nobody holds and the oldest TIME-WAITs beyond the limit.
    /// The connection starts at the path MTU a router reported for its peer, if one did.
    func add(_ connection: TCPConnection, now: UInt64) {
        if let mtu = reportedPathMTU(to: connection.remoteAddress, now: now) { _ = connection.pathMTUShrank(to: mtu) }
        tcpConnections.removeAll { $0.state == .closed && (!$0.isAccepted || $0.isReleased) }
        var waiting = tcpConnections.filter { $0.state == .timeWait }.count
        while waiting >= IPStack.timeWaitLimit, let oldest = tcpConnections.firstIndex(where: { $0.state == .timeWait }) {
            tcpConnections.remove(at: oldest)
            waiting -= 1
        }
        tcpConnections.append(connection)
    }

    /// RFC 6528: a clock ticking every 4 µs plus a keyed hash of the connection's
    /// addresses, so that sequence numbers are neither guessable nor reused soon.
    func initialSequence(localPort: UInt16, remote: IPAddress, remotePort: UInt16, now: UInt64) -> UInt32 {
        var input = sequenceSecret
        appendBE16(&input, localPort)
        switch remote {
        case .v4(let peer):
            appendBE32(&input, address)
            appendBE32(&input, peer)
        case .v6(let peer):
            input += peer.bytes
        }
        appendBE16(&input, remotePort)
        let hash = BLAKE2s.hash(input)
        let keyed = UInt32(hash[0]) | UInt32(hash[1]) << 8 | UInt32(hash[2]) << 16 | UInt32(hash[3]) << 24
        let fourMicroseconds = UInt32(truncatingIfNeeded: now / max(clock.frequency / 250_000, 1))
        return keyed &+ fourMicroseconds
    }

    func nextRandom() -> UInt64 {
        portState ^= portState << 13
        portState ^= portState >> 7
        portState ^= portState << 17
        return portState
    }

    /// A free port from the dynamic range (RFC 6335), chosen at random (RFC 6056).
    func ephemeralPort() -> UInt16 {
        while true {
            let port = UInt16(49152 + nextRandom() % 16384)
            if !tcpListening.contains(port), !tcpConnections.contains(where: { $0.localPort == port && $0.state != .closed }) { return port }
        }
    }

    func frame(for segment: TCPSegment, to connection: TCPConnection) -> [UInt8] {
        wrap(segment, from: connection.localAddress, to: connection.remoteAddress, mac: connection.remoteMAC)
    }

    func wrap(_ segment: TCPSegment, from local: IPAddress, to peer: IPAddress, mac: [UInt8]) -> [UInt8] {
        ipFrame(from: local, to: peer, mac: mac, protocolNumber: IPv4Packet.tcp,
                payload: segment.emit(between: AddressPair(source: local, destination: peer)))
    }

    /// `payload` in an IP packet of the peer's family, in an Ethernet frame to `mac`.
    func ipFrame(from local: IPAddress, to peer: IPAddress, mac: [UInt8], protocolNumber: UInt8, payload: [UInt8]) -> [UInt8] {
        switch (local, peer) {
        case (.v6(let source), .v6(let destination)):
            return ipv6Frame(from: source, to: destination, mac: mac, nextHeader: protocolNumber, payload: payload)
        case (_, .v4(let destination)):
            return ipv4Frame(to: destination, mac: mac, protocolNumber: protocolNumber, payload: payload)
        case (.v4, .v6):
            preconditionFailure("an IPv6 peer with an IPv4 local address")
        }
    }

    /// `payload` in an IPv4 packet from this host to `destination`, in an Ethernet frame to `mac`.
    func ipv4Frame(to destination: UInt32, mac: [UInt8], protocolNumber: UInt8, payload: [UInt8]) -> [UInt8] {
        identification &+= 1
        let packet = IPv4Packet.emit(source: address, destination: destination, protocolNumber: protocolNumber, payload: payload,
                                     identification: identification)
        return EthernetFrame.emit(destination: mac, source: network.macAddress, etherType: EthernetFrame.ipv4, payload: packet)
    }

    /// What the connections have to send now: data, FINs, resends, probes, acknowledgments.
    func pollTCP(now: UInt64) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for connection in tcpConnections where connection.state != .closed {
            for segment in connection.output(now: now) { frames.append(frame(for: segment, to: connection)) }
        }
        return frames
    }

    func sendTCP(now: UInt64) {
        for frame in pollTCP(now: now) { try? network.transmit(frame) }
    }

    /// Accepts connections to TCP `port`.
    public func listenTCP(port: UInt16) throws(NetworkError) {
        guard port != 0, !tcpListening.contains(port) else { throw .portInUse }
        tcpListening.append(port)
    }

    /// A connection made to `port` waits to be accepted.
    public func hasConnection(on port: UInt16) -> Bool { readyConnection(on: port) != nil }

    func readyConnection(on port: UInt16) -> TCPConnection? {
        tcpConnections.first { $0.localPort == port && !$0.isAccepted && ($0.state == .established || $0.state == .closeWait) }
    }

    /// The next connection made to `port`, waiting for one at most `nanoseconds`.
    public func acceptTCP(on port: UInt16, waitingAtMost nanoseconds: UInt64) -> TCPConnection? {
        serve(forAtMost: nanoseconds) { readyConnection(on: port) != nil }
        guard let connection = readyConnection(on: port) else { return nil }
        connection.isAccepted = true
        return connection
    }

    /// Opens a connection to `destination`:`port` from an ephemeral port, waiting
    /// at most `nanoseconds` for the handshake (SYNs are resent on RFC 6298's timer).
    public func connectTCP(to peer: IPAddress, port: UInt16, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> TCPConnection {
        guard port != 0 else { throw .refused }
        let end = clock.ticks() &+ clock.ticks(forNanoseconds: nanoseconds)
        let local: IPAddress, mac: [UInt8]
        switch peer {
        case .v4(let destination):
            guard ipv4Enabled else { throw .unreachable }
            local = .v4(address)
            mac = try resolve(nextHop(for: destination))
        case .v6(let destination):
            let route = try route(ipv6: destination)
            local = .v6(route.source)
            mac = route.mac
        }
        let localPort = ephemeralPort()
        let now = clock.ticks()
        let connection = TCPConnection(localPort: localPort, remoteAddress: peer, remotePort: port,
                                       initialSequence: initialSequence(localPort: localPort, remote: peer, remotePort: port, now: now),
                                       now: now, ticksPerSecond: clock.frequency)
        connection.remoteMAC = mac
        connection.localAddress = local
        connection.isAccepted = true
        add(connection, now: now)
        try network.transmit(frame(for: connection.synchronize(now: now), to: connection))
        let left = clock.ticks() < end ? ticksToNanoseconds(end &- clock.ticks(), frequency: clock.frequency) : 0
        serve(forAtMost: left) { connection.state != .synSent && connection.state != .synReceived }
        if connection.state == .established || connection.state == .closeWait { return connection }
        if let failure = connection.failure { throw failure }
        _ = connection.abort()
        throw .timedOut
    }

    /// At most `count` received bytes, waiting for some at most `nanoseconds`:
    /// [] if none came in time, nil once the peer has closed and all is read;
    /// throws if the connection was reset or its peer stopped answering.
    public func readTCP(_ connection: TCPConnection, atMost count: Int, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [UInt8]? {
        serve(forAtMost: nanoseconds) { connection.hasData || connection.peerClosed || connection.state == .closed }
        if connection.hasData {
            let bytes = connection.take(count)
            sendTCP(now: clock.ticks())   // a window update, if one is owed
            return bytes
        }
        if let failure = connection.failure { throw failure }
        return connection.peerClosed || connection.state == .closed ? nil : []
    }

    /// Sends all of `data`, waiting for buffer space at most `nanoseconds` in all.
    public func writeTCP(_ connection: TCPConnection, _ data: [UInt8], waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        var offset = 0
        let end = clock.ticks() &+ clock.ticks(forNanoseconds: nanoseconds)
        while offset < data.count {
            if let failure = connection.failure { throw failure }
            guard connection.state == .established || connection.state == .closeWait else { throw .closed }
            offset += connection.give(data[offset...])
            sendTCP(now: clock.ticks())
            if offset < data.count {
                guard clock.ticks() < end else { throw .timedOut }
                serve(forAtMost: 100_000_000) { connection.sendSpace > 0 || connection.state == .closed }
            }
        }
    }

    /// Hands the connection as much of `data` as its send buffer takes now, without waiting; returns how many bytes.
    public func offerTCP(_ connection: TCPConnection, _ data: ArraySlice<UInt8>) throws(NetworkError) -> Int {
        if let failure = connection.failure { throw failure }
        guard connection.state == .established || connection.state == .closeWait else { throw .closed }
        let taken = connection.give(data)
        if taken > 0 { sendTCP(now: clock.ticks()) }
        return taken
    }

    /// Closes our side after what is buffered; waits at most `nanoseconds` for the peer to acknowledge.
    public func closeTCP(_ connection: TCPConnection, waitingAtMost nanoseconds: UInt64) {
        connection.close()
        sendTCP(now: clock.ticks())
        serve(forAtMost: nanoseconds) {
            connection.state == .closed || connection.state == .timeWait || connection.state == .finWait2
        }
        connection.isReleased = true
    }

    /// Drops the connection with a reset, discarding what is unsent or unread.
    public func abortTCP(_ connection: TCPConnection) {
        if let reset = connection.abort() { try? network.transmit(frame(for: reset, to: connection)) }
        connection.isReleased = true
    }
}

/// A datagram received on a bound port.
public struct ReceivedDatagram: Equatable {
    public let source: IPAddress
    public let sourcePort: UInt16
    public let data: [UInt8]
}
