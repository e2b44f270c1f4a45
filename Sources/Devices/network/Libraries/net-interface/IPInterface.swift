/// One IP host on one Ethernet interface, smoltcp's middle layer: it
/// answers ARP for its address (and announces it once, gratuitously), keeps
/// an ARP cache of what it hears, answers ICMP echo requests, delivers UDP
/// datagrams to bound ports (others get ICMP port unreachable) and TCP
/// segments to their connections, and runs the DHCP client; IPv6 beside it
/// (IPv6Layer.swift). Everything malformed is counted and dropped.
///
/// Nothing here waits. `handle` takes a frame and a time and returns the
/// frames to answer with; `poll` runs the timers (TCP's, IPv6's, DHCP's,
/// neighbour resolution's) and returns what they send; the calls of the
/// stack's sockets (IPStack) give and take bytes and send at once. A packet
/// for a neighbour whose Ethernet address is not known yet is queued while
/// ARP or neighbour discovery asks for it. Whatever changes for a
/// connection, a listening port, a UDP port or the DHCP lease wakes the
/// tasks waiting on its `WaitQueue`; the host tests drive all of it with a
/// fake clock.
public final class IPInterface<Network: NetworkInterface, C: Clock> {
    public let network: Network
    public let clock: C
    /// IPv4 is spoken (`--ip-mode` ipv4 or dual).
    public let ipv4Enabled: Bool
    public private(set) var address: UInt32
    public private(set) var prefixLength: Int
    public private(set) var gateway: UInt32?
    /// The DHCP client, when the address comes from DHCP (`--ipv4 dhcp`).
    var dhcp: DHCPClient?
    /// Woken when the DHCP client is bound or gives up.
    public let leaseChanged = WaitQueue()
    /// IPv4 address to Ethernet address, with when the entry expires.
    var arpCache: [(address: UInt32, mac: MACAddress, expires: UInt64)] = []
    /// Packets waiting for a neighbour's Ethernet address, by next hop.
    var pending: [PendingResolution] = []
    var identification: UInt16 = 0
    public private(set) var echoRepliesSent = 0
    public internal(set) var framesDropped = 0
    /// TCP ports listened on, each with the tasks waiting to accept on it.
    var listeners: [(port: UInt16, waiters: WaitQueue)] = []
    public internal(set) var tcpConnections: [TCPConnection] = []
    /// RFC 6528's secret: initial sequence numbers are a clock plus a keyed hash of the connection's addresses.
    let sequenceSecret: [UInt8]
    /// A xorshift generator seeded from the entropy device, for ephemeral ports and DHCP transactions.
    var portState: UInt64
    var reassembly = Reassembly<IPv4FragmentKey, IPv4Packet>()
    /// IPv6 beside IPv4 (IPv6Layer.swift).
    var ipv6 = IPv6State()
    static var reassemblySeconds: Int { 30 }
    /// Connections not yet accepted, per port, beyond which SYNs are dropped.
    static var backlog: Int { 128 }
    /// Connections in TIME-WAIT kept at most (Linux's tcp_max_tw_buckets, scaled down): the oldest goes first.
    static var timeWaitLimit: Int { 128 }
    /// Bound UDP ports, each with the datagrams received and not yet taken.
    var udpPorts: [UDPPort] = []
    static var udpQueueLimit: Int { 64 }

    static var arpLifetime: UInt64 { 60_000_000_000 }
    static var arpCacheSize: Int { 64 }

    /// `address` as "a.b.c.d/prefix" or "dhcp", `gateway` as "a.b.c.d" or
    /// "" (none; with DHCP, the server's router); stops with a message if they
    /// do not parse. With "dhcp" the client starts at the first `poll`.
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
            dhcp = DHCPClient(transaction: UInt32(truncatingIfNeeded: nextRandom()))
            return
        }
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
        try? network.transmit(announcement())
    }

    /// The IPv4 settings in use, once there is an address.
    public var ipv4: IPv4Configuration? {
        guard ipv4Enabled, address != 0 else { return nil }
        return IPv4Configuration(address: address, prefixLength: prefixLength, gateway: gateway, dhcpServer: dhcp?.server)
    }

    /// A gratuitous ARP request for our own address.
    func announcement() -> [UInt8] {
        let arp = ARPPacket(operation: ARPPacket.request, senderMAC: network.macAddress, senderIP: address,
                            targetMAC: .zero, targetIP: address)
        return EthernetFrame.emit(destination: .broadcast, source: network.macAddress, etherType: EthernetFrame.arp, payload: arp.emit())
    }

    /// The Ethernet address cached for `ip`, if fresh.
    public func cachedMAC(for ip: UInt32, now: UInt64) -> MACAddress? {
        arpCache.first { $0.address == ip && $0.expires > now }?.mac
    }

    func learn(_ ip: UInt32, _ mac: MACAddress, now: UInt64) {
        guard ip != 0, mac != .broadcast else { return }
        arpCache.removeAll { $0.address == ip || $0.expires <= now }
        if arpCache.count >= IPInterface.arpCacheSize { arpCache.removeFirst() }
        arpCache.append((ip, mac, now &+ IPInterface.arpLifetime))
    }

    /// The frames to send in answer to `frame`, received at `now` (ticks).
    public func handle(_ frame: [UInt8], now: UInt64) -> [[UInt8]] {
        guard let ethernet = EthernetFrame(parsing: frame),
              ethernet.destination == network.macAddress || ethernet.destination == .broadcast
                || acceptsIPv6Multicast(ethernet.destination) else {
            framesDropped += 1
            return []
        }
        switch ethernet.etherType {
        case EthernetFrame.arp where ipv4Enabled:
            guard let arp = ARPPacket(parsing: ethernet.payload) else { framesDropped += 1; return [] }
            var answers: [[UInt8]] = []
            if arp.targetIP == address || isResolving(.v4(arp.senderIP)) || cachedMAC(for: arp.senderIP, now: now) != nil {
                learn(arp.senderIP, arp.senderMAC, now: now)
                answers += resolved(.v4(arp.senderIP), arp.senderMAC)
            }
            guard arp.operation == ARPPacket.request, arp.targetIP == address, address != 0, arp.senderIP != address else { return answers }
            let reply = ARPPacket(operation: ARPPacket.reply, senderMAC: network.macAddress, senderIP: address,
                                  targetMAC: arp.senderMAC, targetIP: arp.senderIP)
            answers.append(EthernetFrame.emit(destination: arp.senderMAC, source: network.macAddress, etherType: EthernetFrame.arp,
                                              payload: reply.emit()))
            return answers
        case EthernetFrame.ipv4 where ipv4Enabled:
            guard let ip = IPv4Packet(parsing: ethernet.payload),
                  ip.destination == address || ip.destination == 0xFFFF_FFFF || address == 0 else { framesDropped += 1; return [] }
            if ip.protocolNumber == IPv4Packet.udp, let udp = UDPDatagram(parsing: ip.payload, source: ip.source, destination: ip.destination),
               udp.destinationPort == DHCPMessage.clientPort {
                if let message = DHCPMessage(parsing: udp.data), message.operation == 2, message.hardwareAddress == network.macAddress {
                    return takeDHCP(message, now: now)
                }
                return []
            }
            guard ip.destination == address, address != 0 else { framesDropped += 1; return [] }
            if ip.isFragment {
                let lifetime = UInt64(IPInterface.reassemblySeconds) * clock.frequency
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

    // MARK: UDP

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

    /// Queues a datagram on its port and wakes its readers; false if nobody has bound the port.
    func deliver(_ udp: UDPDatagram, from peer: IPAddress) -> Bool {
        guard let port = udpPorts.first(where: { $0.port == udp.destinationPort }) else { return false }
        if port.queue.count < IPInterface.udpQueueLimit {
            port.queue.append(ReceivedDatagram(source: peer, sourcePort: udp.sourcePort, data: udp.data))
            port.waiters.wakeAll()
        } else {
            framesDropped += 1
        }
        return true
    }

    /// Starts receiving datagrams on UDP `port`.
    public func bindUDP(port: UInt16) throws(NetworkError) -> UDPPort {
        guard port != 0, !udpPorts.contains(where: { $0.port == port }) else { throw .portInUse }
        let bound = UDPPort(port: port)
        udpPorts.append(bound)
        return bound
    }

    /// Stops receiving on `port`; what was queued is dropped.
    public func unbindUDP(_ port: UDPPort) {
        udpPorts.removeAll { $0 === port }
        port.waiters.wakeAll()
    }

    /// Sends `data` from UDP `sourcePort` to `peer`:`port`. When the next
    /// hop's Ethernet address is not known, the datagram waits for it (ARP or
    /// neighbour discovery, three tries a second apart) and is dropped if nobody answers.
    public func sendUDP(_ data: [UInt8], to peer: IPAddress, port: UInt16, from sourcePort: UInt16) throws(NetworkError) {
        let datagram = UDPDatagram(sourcePort: sourcePort, destinationPort: port, data: data)
        let now = clock.ticks()
        switch peer {
        case .v6(let destination):
            guard data.count <= 1452 else { throw .badFrame }   // 1500 less the IPv6 and UDP headers
            guard ipv6.enabled, let source = sourceAddress(for: destination) else { throw .unreachable }
            var frame = datagram.emit(between: .v6(source: source, destination: destination), headroom: IPInterface.headroom(to: peer))
            writeHeaders(into: &frame, from: .v6(source), to: peer, mac: .zero, protocolNumber: IPv4Packet.udp)
            try send(frame, via: .v6(try nextHop(forIPv6: destination)), from: .v6(source), now: now)
        case .v4(let destination):
            guard ipv4Enabled, address != 0 else { throw .unreachable }
            guard data.count <= 1472 else { throw .badFrame }
            var frame = datagram.emit(between: .v4(source: address, destination: destination), headroom: IPInterface.headroom(to: peer))
            writeHeaders(into: &frame, from: .v4(address), to: peer, mac: .zero, protocolNumber: IPv4Packet.udp)
            try send(frame, via: .v4(try nextHop(for: destination)), from: .v4(address), now: now)
        }
    }

    /// Where a datagram for `destination` goes first: itself if on the local network, else the gateway.
    func nextHop(for destination: UInt32) throws(NetworkError) -> UInt32 {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        if destination == 0xFFFF_FFFF || destination & mask == address & mask { return destination }
        guard let gateway else { throw .unreachable }
        return gateway
    }

    // MARK: Neighbours

    /// Sends `frame` (its destination MAC still to fill in) to the neighbour
    /// `hop`: at once when its Ethernet address is known, else once ARP or
    /// neighbour discovery finds it. Our address `source` asks (IPv6's
    /// solicitation needs a source). Throws only for a frame the device refuses.
    func send(_ frame: [UInt8], via hop: IPAddress, from source: IPAddress, now: UInt64) throws(NetworkError) {
        if let mac = neighborMAC(hop, now: now) {
            try network.transmit(addressed(frame, to: mac))
            return
        }
        if let index = pending.firstIndex(where: { $0.hop == hop }) {
            if pending[index].frames.count >= PendingResolution.frameLimit { pending[index].frames.removeFirst(); framesDropped += 1 }
            pending[index].frames.append(frame)
            return
        }
        pending.append(PendingResolution(hop: hop, source: source, frames: [frame], asked: 1,
                                         nextTry: now &+ clock.frequency * PendingResolution.retrySeconds))
        try? network.transmit(question(for: hop, from: source))
    }

    /// The cached Ethernet address of a neighbour, either family (for IPv6,
    /// sending to a STALE entry starts its DELAY, RFC 4861 7.3.3).
    func neighborMAC(_ hop: IPAddress, now: UInt64) -> MACAddress? {
        switch hop {
        case .v4(let ip): return ip == 0xFFFF_FFFF ? .broadcast : cachedMAC(for: ip, now: now)
        case .v6(let ip): return ip.isMulticast ? ip.multicastMAC : neighborMAC(ip, now: now)
        }
    }

    /// An ARP request or a neighbour solicitation for `hop`.
    func question(for hop: IPAddress, from source: IPAddress) -> [UInt8] {
        switch (hop, source) {
        case (.v6(let target), .v6(let from)):
            let solicitation = NeighborMessage(solicitationFor: target, options: NDOptions(sourceLinkLayer: network.macAddress))
            return icmpv6Frame(solicitation.message, from: from, to: target.solicitedNode, mac: .zero, hopLimit: 255)
        case (.v4(let target), _):
            let request = ARPPacket(operation: ARPPacket.request, senderMAC: network.macAddress, senderIP: address,
                                    targetMAC: .zero, targetIP: target)
            return EthernetFrame.emit(destination: .broadcast, source: network.macAddress, etherType: EthernetFrame.arp, payload: request.emit())
        case (.v6, .v4):
            preconditionFailure("an IPv6 neighbour asked from an IPv4 address")
        }
    }

    /// Whether a question for `hop` is out.
    func isResolving(_ hop: IPAddress) -> Bool { pending.contains { $0.hop == hop } }

    /// `hop` answered with `mac`: the packets waiting for it, addressed.
    func resolved(_ hop: IPAddress, _ mac: MACAddress) -> [[UInt8]] {
        guard let index = pending.firstIndex(where: { $0.hop == hop }) else { return [] }
        let frames = pending.remove(at: index).frames
        return frames.map { addressed($0, to: mac) }
    }

    /// Asks again for neighbours still unknown; after the third question
    /// goes unanswered their packets are dropped, and connections opening to
    /// them fail as unreachable.
    func retryResolutions(now: UInt64) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var index = 0
        while index < pending.count {
            let hop = pending[index].hop
            if let mac = neighborMAC(hop, now: now) {
                frames += resolved(hop, mac)
                continue
            }
            guard now >= pending[index].nextTry else { index += 1; continue }
            guard pending[index].asked < PendingResolution.questions else {
                framesDropped += pending.remove(at: index).frames.count
                for connection in tcpConnections where connection.state == .synSent && nextHopMatches(connection, hop) {
                    connection.fail(.unreachable)
                    connection.waiters.wakeAll()
                }
                continue
            }
            pending[index].asked += 1
            pending[index].nextTry = now &+ clock.frequency * PendingResolution.retrySeconds
            frames.append(question(for: hop, from: pending[index].source))
            index += 1
        }
        return frames
    }

    func nextHopMatches(_ connection: TCPConnection, _ hop: IPAddress) -> Bool {
        switch connection.remoteAddress {
        case .v4(let peer): return (try? nextHop(for: peer)).map { IPAddress.v4($0) == hop } ?? false
        case .v6(let peer): return (try? nextHop(forIPv6: peer)).map { IPAddress.v6($0) == hop } ?? false
        }
    }

    /// `frame` with its destination Ethernet address set to `mac`.
    func addressed(_ frame: [UInt8], to mac: MACAddress) -> [UInt8] {
        var frame = frame
        for index in 0..<6 { frame[index] = mac[index] }
        return frame
    }

    // MARK: DHCP

    /// A DHCP server's answer to our transaction.
    func takeDHCP(_ message: DHCPMessage, now: UInt64) -> [[UInt8]] {
        guard var client = dhcp, message.transaction == client.transaction else { return [] }
        defer { dhcp = client }
        switch client.take(message, now: now, ticksPerSecond: clock.frequency) {
        case .request(let request):
            return [dhcpFrame(request)]
        case .bound(let lease):
            apply(lease)
            leaseChanged.wakeAll()
            return []
        case .nothing:
            return []
        }
    }

    /// Takes the address, mask and router a lease gives.
    func apply(_ lease: DHCPMessage) {
        let changed = address != 0 && address != lease.yourAddress
        address = lease.yourAddress
        prefixLength = (lease.subnetMask ?? 0xFFFF_FF00).nonzeroBitCount
        gateway = lease.router
        dhcpNameServers = lease.nameServers
        if changed || !announced {
            announced = true
            try? network.transmit(announcement())
        }
    }

    var announced = false
    /// The name servers the DHCP lease named (option 6).
    var dhcpNameServers: [UInt32] = []

    /// The name servers the network named: the DHCP lease's (option 6),
    /// then router advertisements' (RFC 8106) whose lifetime runs at `now`.
    public func nameServers(now: UInt64) -> [IPAddress] {
        let fromDHCP = ipv4Enabled ? dhcpNameServers.map { IPAddress.v4($0) } : []
        return fromDHCP + ipv6.nameServers.filter { server in server.until.map { $0 > now } ?? true }.map { .v6($0.address) }
    }

    /// Whether DHCP is done: bound, or given up (`dhcpFailed`).
    public var dhcpSettled: Bool { dhcp.map { $0.isBound || $0.hasFailed } ?? true }
    /// Whether DHCP gave up: no server answered four times.
    public var dhcpFailed: Bool { dhcp?.hasFailed ?? false }

    func dhcpFrame(_ message: DHCPMessage) -> [UInt8] {
        let udp = UDPDatagram(sourcePort: DHCPMessage.clientPort, destinationPort: DHCPMessage.serverPort, data: message.emit())
        return ipv4Frame(to: 0xFFFF_FFFF, mac: .broadcast, protocolNumber: IPv4Packet.udp,
                         payload: udp.emit(source: address, destination: 0xFFFF_FFFF))
    }

    // MARK: The timers

    /// What is due at `now`: TCP's segments, IPv6's timers, DHCP's messages,
    /// neighbour questions and the packets their answers released.
    public func poll(now: UInt64) -> [[UInt8]] {
        var frames = pollTCP(now: now)
        frames += pollIPv6(now: now)
        if var client = dhcp {
            if let message = client.poll(now: now, ticksPerSecond: clock.frequency, hardwareAddress: network.macAddress, address: address) {
                frames.append(dhcpFrame(message))
            }
            if client.hasFailed && !(dhcp?.hasFailed ?? false) { leaseChanged.wakeAll() }
            dhcp = client
        }
        frames += retryResolutions(now: now)
        return frames
    }

    /// The earliest time `poll` has something to do.
    public var nextDeadline: UInt64? {
        var deadline = nextIPv6Deadline
        func consider(_ time: UInt64?) {
            guard let time else { return }
            deadline = min(deadline ?? time, time)
        }
        for connection in tcpConnections { consider(connection.nextDeadline) }
        consider(dhcp?.nextDeadline)
        for resolution in pending { consider(resolution.nextTry) }
        return deadline
    }

    // MARK: TCP

    /// A TCP segment from `peer` to our `local` address, either family, sent from the Ethernet address `mac`.
    func handleTCP(_ bytes: ArraySlice<UInt8>, from peer: IPAddress, to local: IPAddress, mac: MACAddress, now: UInt64) -> [[UInt8]] {
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
                let answers = connection.receive(segment, now: now).map { frame(for: $0, to: connection) }
                changed(connection)
                return answers
            }
            tcpConnections.removeAll { $0 === connection }
        }
        if segment.has(TCPSegment.syn), !segment.has(TCPSegment.ack), !segment.has(TCPSegment.rst),
           listeners.contains(where: { $0.port == segment.destinationPort }) {
            let waiting = tcpConnections.filter {
                $0.localPort == segment.destinationPort && !$0.isAccepted
                    && ($0.state == .synReceived || $0.state == .established || $0.state == .closeWait)
            }
            guard waiting.count < IPInterface.backlog else { framesDropped += 1; return [] }
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

    /// Something happened on `connection`: its tasks look again, and so do
    /// those accepting on its port if it is ready to be accepted.
    func changed(_ connection: TCPConnection) {
        connection.waiters.wakeAll()
        if !connection.isAccepted, connection.state == .established || connection.state == .closeWait,
           let listener = listeners.first(where: { $0.port == connection.localPort }) {
            listener.waiters.wakeAll()
        }
    }

    /// Keeps a new connection, forgetting closed ones nobody holds and the oldest TIME-WAITs beyond the limit.
    /// The connection starts at the path MTU a router reported for its peer, if one did.
    func add(_ connection: TCPConnection, now: UInt64) {
        connection.segmentationLimit = network.offloads.tcpSegmentation
        if let mtu = reportedPathMTU(to: connection.remoteAddress, now: now) { _ = connection.pathMTUShrank(to: mtu) }
        tcpConnections.removeAll { $0.state == .closed && (!$0.isAccepted || $0.isReleased) }
        var waiting = tcpConnections.filter { $0.state == .timeWait }.count
        while waiting >= IPInterface.timeWaitLimit, let oldest = tcpConnections.firstIndex(where: { $0.state == .timeWait }) {
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
            if !listeners.contains(where: { $0.port == port }), !udpPorts.contains(where: { $0.port == port }),
               !tcpConnections.contains(where: { $0.localPort == port && $0.state != .closed }) { return port }
        }
    }

    func frame(for segment: TCPSegment, to connection: TCPConnection) -> [UInt8] {
        wrap(segment, from: connection.localAddress, to: connection.remoteAddress, mac: connection.remoteMAC)
    }

    func wrap(_ segment: TCPSegment, from local: IPAddress, to peer: IPAddress, mac: MACAddress) -> [UInt8] {
        var frame = segment.emit(between: AddressPair(source: local, destination: peer), headroom: IPInterface.headroom(to: peer),
                                 checksumByDevice: network.offloads.tcpChecksums)
        writeHeaders(into: &frame, from: local, to: peer, mac: mac, protocolNumber: IPv4Packet.tcp)
        return frame
    }

    /// The room an upper-layer packet to `peer` leaves at its front for the
    /// Ethernet and IP headers. A packet is emitted once, after that room,
    /// and `writeHeaders` fills it in place: no layer copies the payload.
    static func headroom(to peer: IPAddress) -> Int {
        if case .v6 = peer { return EthernetFrame.headerLength + IPv6Packet.headerLength }
        return EthernetFrame.headerLength + IPv4Packet.headerLength
    }

    /// Makes `packet` (an upper-layer packet after `headroom(to: peer)` bytes)
    /// a frame to `mac`: writes an IP header of the peer's family and the
    /// Ethernet header into the room at its front.
    func writeHeaders(into packet: inout [UInt8], from local: IPAddress, to peer: IPAddress, mac: MACAddress, protocolNumber: UInt8,
                      hopLimit: UInt8? = nil) {
        switch (local, peer) {
        case (.v6(let source), .v6(let destination)):
            IPv6Packet.writeHeader(into: &packet, at: EthernetFrame.headerLength, source: source, destination: destination,
                                   nextHeader: protocolNumber, hopLimit: hopLimit ?? ipv6.hopLimit)
            EthernetFrame.writeHeader(into: &packet, destination: mac, source: network.macAddress, etherType: EthernetFrame.ipv6)
        case (_, .v4(let destination)):
            identification &+= 1
            IPv4Packet.writeHeader(into: &packet, at: EthernetFrame.headerLength, source: address, destination: destination,
                                   protocolNumber: protocolNumber, identification: identification)
            EthernetFrame.writeHeader(into: &packet, destination: mac, source: network.macAddress, etherType: EthernetFrame.ipv4)
        case (.v4, .v6):
            preconditionFailure("an IPv6 peer with an IPv4 local address")
        }
    }

    /// `payload` in an IP packet of the peer's family, in an Ethernet frame to `mac`.
    func ipFrame(from local: IPAddress, to peer: IPAddress, mac: MACAddress, protocolNumber: UInt8, payload: [UInt8],
                 hopLimit: UInt8? = nil) -> [UInt8] {
        var frame = packet(headroom: IPInterface.headroom(to: peer), headerLength: 0, payload: payload[...]) { _ in }
        writeHeaders(into: &frame, from: local, to: peer, mac: mac, protocolNumber: protocolNumber, hopLimit: hopLimit)
        return frame
    }

    /// `payload` in an IPv4 packet from this host to `destination`, in an Ethernet frame to `mac`.
    func ipv4Frame(to destination: UInt32, mac: MACAddress, protocolNumber: UInt8, payload: [UInt8]) -> [UInt8] {
        ipFrame(from: .v4(address), to: .v4(destination), mac: mac, protocolNumber: protocolNumber, payload: payload)
    }

    /// What the connections have to send now: data, FINs, resends, probes,
    /// acknowledgments; a connection whose timers closed it wakes its tasks.
    func pollTCP(now: UInt64) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for connection in tcpConnections where connection.state != .closed {
            let before = connection.state
            for segment in connection.output(now: now) { frames.append(frame(for: segment, to: connection)) }
            if connection.state != before { changed(connection) }
        }
        return frames
    }

    /// Sends what `connection` has to send now.
    func flush(_ connection: TCPConnection) {
        guard connection.state != .closed else { return }
        for segment in connection.output(now: clock.ticks()) { try? network.transmit(frame(for: segment, to: connection)) }
    }

    // MARK: The sockets' calls (none waits)

    /// Accepts connections to TCP `port`; returns the queue its accepting tasks wait on.
    public func listenTCP(port: UInt16) throws(NetworkError) -> WaitQueue {
        guard port != 0, !listeners.contains(where: { $0.port == port }) else { throw .portInUse }
        let waiters = WaitQueue()
        listeners.append((port, waiters))
        return waiters
    }

    /// Stops accepting on `port`; connections not yet accepted are reset.
    public func unlistenTCP(port: UInt16) {
        guard let index = listeners.firstIndex(where: { $0.port == port }) else { return }
        listeners.remove(at: index).waiters.wakeAll()
        for connection in tcpConnections where connection.localPort == port && !connection.isAccepted { abort(connection) }
    }

    /// The next connection made to `port` and not yet accepted, now accepted.
    public func accept(on port: UInt16) -> TCPConnection? {
        guard let connection = tcpConnections.first(where: {
            $0.localPort == port && !$0.isAccepted && ($0.state == .established || $0.state == .closeWait)
        }) else { return nil }
        connection.isAccepted = true
        return connection
    }

    /// Opens a connection to `peer`:`port` from an ephemeral port: its SYN
    /// goes out now, or once the next hop's Ethernet address is known. The
    /// connection is in SYN-SENT until the peer answers (or it fails).
    public func open(to peer: IPAddress, port: UInt16) throws(NetworkError) -> TCPConnection {
        guard port != 0 else { throw .refused }
        let now = clock.ticks()
        let local: IPAddress, hop: IPAddress
        switch peer {
        case .v4(let destination):
            guard ipv4Enabled, address != 0 else { throw .unreachable }
            local = .v4(address)
            hop = .v4(try nextHop(for: destination))
        case .v6(let destination):
            guard ipv6.enabled, let source = sourceAddress(for: destination) else { throw .unreachable }
            local = .v6(source)
            hop = .v6(try nextHop(forIPv6: destination))
        }
        let localPort = ephemeralPort()
        let connection = TCPConnection(localPort: localPort, remoteAddress: peer, remotePort: port,
                                       initialSequence: initialSequence(localPort: localPort, remote: peer, remotePort: port, now: now),
                                       now: now, ticksPerSecond: clock.frequency)
        connection.localAddress = local
        connection.isAccepted = true
        add(connection, now: now)
        let syn = frame(for: connection.synchronize(now: now), to: connection)
        if let mac = neighborMAC(hop, now: now) { connection.remoteMAC = mac }
        try send(syn, via: hop, from: local, now: now)
        return connection
    }

    /// At most `count` received bytes, taken now ([] if none); sends a window update if one is owed.
    public func read(_ connection: TCPConnection, atMost count: Int) -> [UInt8] {
        let bytes = connection.take(count)
        Counters.bytesCopied &+= UInt64(bytes.count)
        if !bytes.isEmpty { flush(connection) }
        return bytes
    }

    /// Hands the connection as much of `data` as its send buffer takes now; returns how many bytes.
    public func offer(_ connection: TCPConnection, _ data: ArraySlice<UInt8>) throws(NetworkError) -> Int {
        if let failure = connection.failure { throw failure }
        guard connection.state == .established || connection.state == .closeWait else { throw .closed }
        let taken = connection.give(data)
        Counters.bytesCopied &+= UInt64(taken)
        if taken > 0 { flush(connection) }
        return taken
    }

    /// Closes our side after what is buffered (the FIN goes out when it may).
    public func close(_ connection: TCPConnection) {
        connection.close()
        flush(connection)
        connection.waiters.wakeAll()
    }

    /// Drops the connection with a reset, discarding what is unsent or unread.
    public func abort(_ connection: TCPConnection) {
        if let reset = connection.abort() { try? network.transmit(frame(for: reset, to: connection)) }
        connection.isReleased = true
        connection.waiters.wakeAll()
    }

    /// The connection's owner is done with it: once closed, it may be forgotten.
    public func release(_ connection: TCPConnection) { connection.isReleased = true }
}

/// A bound UDP port: the datagrams received and not yet taken, and the tasks waiting for one.
public final class UDPPort {
    public let port: UInt16
    var queue: [ReceivedDatagram] = []
    public let waiters = WaitQueue()

    init(port: UInt16) { self.port = port }

    /// The oldest datagram waiting, taken.
    public func take() -> ReceivedDatagram? { queue.isEmpty ? nil : queue.removeFirst() }
    public var hasDatagram: Bool { !queue.isEmpty }
}

/// Packets waiting for a neighbour's Ethernet address: the questions asked
/// so far and when the next is due.
struct PendingResolution {
    let hop: IPAddress
    /// Our address that asks (an IPv6 solicitation's source).
    let source: IPAddress
    var frames: [[UInt8]]
    var asked: Int
    var nextTry: UInt64

    /// Three questions a second apart (RFC 1122 2.3.2.1, RFC 4861's MAX_MULTICAST_SOLICIT), at most 8 packets kept.
    static let questions = 3
    static let retrySeconds: UInt64 = 1
    static let frameLimit = 8
}
