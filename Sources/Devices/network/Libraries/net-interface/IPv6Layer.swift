/// The stack's IPv6 side (RFC 8200, 4861, 4862), beside IPv4 and under the
/// same UDP and TCP: a link-local address from the interface's MAC, global
/// addresses from router advertisements (SLAAC) or a key, duplicate address
/// detection for each, neighbour discovery with a cache and its states
/// (REACHABLE, STALE, DELAY, PROBE, with unicast probes), a default router,
/// MLDv2 reports for the solicited-node groups, ICMPv6 echo and errors.
/// Like the rest, `handleIPv6` is frames in, frames out; the timers (DAD,
/// router solicitations, lifetimes) advance in `pollIPv6`.
struct IPv6State {
    /// One of our addresses.
    struct Assigned {
        let address: IPv6Address
        let prefixLength: Int
        /// Until duplicate address detection passes (RFC 4862 5.4), it is not used.
        var tentative: Bool
        /// When DAD's solicitation went out; it passes a second later with no answer.
        var probedAt: UInt64?
        /// From the router advertisement that made it; nil: forever (link-local, static).
        var validUntil: UInt64?
        /// Past this it is deprecated (RFC 4862 5.5.4): still ours, but new
        /// connections start from another address if there is one; nil: never.
        var preferredUntil: UInt64?

        func isPreferred(at now: UInt64) -> Bool { preferredUntil.map { now < $0 } ?? true }
    }

    /// A neighbour cache entry (RFC 4861 7.3.2). INCOMPLETE is the
    /// interface's pending resolution, with no entry yet; every other state has a MAC.
    struct Neighbor {
        let address: IPv6Address
        var mac: MACAddress
        var state: NeighborState
    }

    enum NeighborState: Equatable {
        /// Confirmed (a solicited advertisement) until then; STALE after.
        case reachable(until: UInt64)
        /// Learnt from the neighbour's own messages, or unconfirmed for a while: used, confirmed when traffic goes to it.
        case stale
        /// A packet went to a STALE entry; unless something confirms it by then, probing starts.
        case delay(until: UInt64)
        /// Unicast solicitations: `sent` so far, the next at `next`; after three unanswered the entry goes.
        case probe(sent: Int, next: UInt64)
    }

    var enabled = false
    var addresses: [Assigned] = []
    /// Prefixes on the link, from advertisements (with their end) or a static address (forever).
    var onLink: [(prefix: IPv6Address, length: Int, until: UInt64?)] = []
    var routers: [(address: IPv6Address, until: UInt64?)] = []
    /// Recursive name servers that router advertisements named (RFC 8106), until their lifetime ends; nil: forever.
    var nameServers: [(address: IPv6Address, until: UInt64?)] = []
    var neighbors: [Neighbor] = []
    var hopLimit: UInt8 = 64
    /// Router solicitations: how many went out, and when the next is due (RFC 4861 6.3.7: three, 4 s apart).
    var solicitationsSent = 0
    var nextSolicitation: UInt64?
    var sawAdvertisement = false
    /// Addresses DAD found in use by another node.
    var duplicates: [IPv6Address] = []
    var echoRepliesSent = 0
    /// A multicast listener query to answer (RFC 3810 6.2): when, and for which of our groups.
    var reportDue: UInt64?
    var reportGroups: [IPv6Address] = []
    var reassembly = Reassembly<IPv6FragmentKey, IPv6Packet>()
    /// Path MTUs routers reported (RFC 8201), for ten minutes each.
    var pathMTUs: [(destination: IPv6Address, mtu: Int, until: UInt64)] = []

    static let neighborCacheSize = 64
    /// Name servers kept from advertisements at most (RFC 8106 5.3.1 suggests three).
    static let nameServerLimit = 3
    // RFC 4861 10: REACHABLE_TIME, DELAY_FIRST_PROBE_TIME, RETRANS_TIMER (seconds), MAX_UNICAST_SOLICIT.
    static let reachableSeconds: UInt64 = 30
    static let delaySeconds: UInt64 = 5
    static let retransmitSeconds: UInt64 = 1
    static let unicastSolicitations = 3
}

extension IPInterface {
    /// Starts IPv6 as `setting` says: "off", "auto" (link-local and SLAAC) or "ADDRESS/LENGTH" (and link-local);
    /// `gateway` is a default router for a static address ("" for none, or whatever routers advertise).
    func startIPv6(_ setting: String, gateway: String) {
        guard setting != "off" else { return }
        ipv6.enabled = true
        let now = clock.ticks()
        ipv6.addresses.append(IPv6State.Assigned(address: .linkLocal(mac: network.macAddress), prefixLength: 64, tentative: true))
        if setting != "auto" {
            guard let (address, length) = IPv6Address.prefixed(setting) else {
                Runtime.fatal("the boot-time key --ipv6 is not off, auto or an address/prefix such as 2001:db8::5/64: ", text: setting)
            }
            ipv6.addresses.append(IPv6State.Assigned(address: address, prefixLength: length, tentative: true))
            ipv6.onLink.append((address, length, nil))
        }
        if !gateway.isEmpty {
            guard let router = IPv6Address(gateway) else {
                Runtime.fatal("the boot-time key --ipv6-gateway is not an IPv6 address such as fe80::1: ", text: gateway)
            }
            ipv6.routers.append((router, nil))
        }
        // Solicit routers once the link-local address is ours; RFC 4861 6.3.7 allows a random delay of up to a second.
        ipv6.nextSolicitation = now &+ clock.frequency &+ UInt64(nextRandom() % clock.frequency)
    }

    /// Our usable (not tentative) IPv6 addresses.
    public var ipv6Addresses: [IPv6Address] { ipv6.addresses.filter { !$0.tentative }.map { $0.address } }

    /// Addresses that duplicate address detection found taken by another node.
    public var ipv6Duplicates: [IPv6Address] { ipv6.duplicates }

    public var ipv6EchoRepliesSent: Int { ipv6.echoRepliesSent }

    func isOurs(_ address: IPv6Address, includingTentative: Bool = false) -> Bool {
        ipv6.addresses.contains { $0.address == address && (includingTentative || !$0.tentative) }
    }

    /// The multicast groups we listen to: all nodes and each address's solicited-node group.
    var ipv6Groups: [IPv6Address] {
        var groups: [IPv6Address] = [.allNodes]
        for address in ipv6.addresses where !groups.contains(address.address.solicitedNode) { groups.append(address.address.solicitedNode) }
        return groups   // addresses with one interface identifier share a solicited-node group
    }

    /// Ethernet destinations IPv6 accepts besides our own: its groups' multicast MACs.
    func acceptsIPv6Multicast(_ mac: MACAddress) -> Bool {
        ipv6.enabled && mac[0] == 0x33 && mac[1] == 0x33 && ipv6Groups.contains { $0.multicastMAC == mac }
    }

    func ipv6Frame(from source: IPv6Address, to destination: IPv6Address, mac: MACAddress, nextHeader: UInt8, payload: [UInt8],
                   hopLimit: UInt8? = nil) -> [UInt8] {
        ipFrame(from: .v6(source), to: .v6(destination), mac: mac, protocolNumber: nextHeader, payload: payload, hopLimit: hopLimit)
    }

    func icmpv6Frame(_ message: ICMPv6Message, from source: IPv6Address, to destination: IPv6Address, mac: MACAddress,
                     hopLimit: UInt8? = nil) -> [UInt8] {
        ipv6Frame(from: source, to: destination, mac: destination.isMulticast ? destination.multicastMAC : mac,
                  nextHeader: IPv6Packet.icmpv6, payload: message.emit(source: source, destination: destination), hopLimit: hopLimit)
    }

    // MARK: Receiving

    func handleIPv6(_ ethernet: EthernetFrame, now: UInt64) -> [[UInt8]] {
        guard ipv6.enabled, let packet = IPv6Packet(parsing: ethernet.payload) else { framesDropped += 1; return [] }
        let destination = packet.destination
        let multicast = destination.isMulticast
        guard multicast ? ipv6Groups.contains(destination) : isOurs(destination, includingTentative: true) else {
            framesDropped += 1
            return []
        }
        // A tentative address takes nothing but neighbour discovery (RFC 4862 5.4.3).
        let tentative = !multicast && !isOurs(destination)
        if let problem = packet.problem {
            // Answered only to unicast, and never for code 255 (an option that asks for silence).
            guard problem.code != 255, !multicast, !tentative, !packet.source.isMulticast else { framesDropped += 1; return [] }
            return [icmpv6Frame(.error(ICMPv6Message.parameterProblem, code: problem.code, field: problem.pointer, quoting: packet.bytes),
                                from: destination, to: packet.source, mac: ethernet.source)]
        }
        var whole = packet
        if let fragment = packet.fragment {
            guard let reassembled = ipv6.reassembly.add(packet, fragment: fragment, now: now,
                                                         lifetime: UInt64(IPInterface.reassemblySeconds) * clock.frequency) else { return [] }
            whole = reassembled
        }
        switch whole.nextHeader {
        case IPv6Packet.icmpv6:
            return handleICMPv6(whole, from: ethernet, now: now)
        case _ where tentative:
            return []
        case IPv6Packet.udp:
            guard let udp = UDPDatagram(parsing: whole.payload, between: .v6(source: whole.source, destination: destination)) else {
                framesDropped += 1
                return []
            }
            if deliver(udp, from: .v6(whole.source)) || multicast { return [] }
            return [icmpv6Frame(.error(ICMPv6Message.destinationUnreachable, code: ICMPv6Message.portUnreachable, field: 0, quoting: whole.bytes),
                                from: destination, to: whole.source, mac: ethernet.source)]
        case IPv6Packet.tcp:
            guard !multicast else { framesDropped += 1; return [] }
            return handleTCP(whole.payload, from: .v6(whole.source), to: .v6(destination), mac: ethernet.source, now: now)
        case IPv6Packet.noNextHeader:
            return []
        default:
            // RFC 8200 4: an unrecognised next header is a parameter problem, code 1, pointing at the field that names it.
            guard !multicast else { framesDropped += 1; return [] }
            return [icmpv6Frame(.error(ICMPv6Message.parameterProblem, code: 1, field: UInt32(whole.nextHeaderOffset), quoting: whole.bytes),
                                from: destination, to: whole.source, mac: ethernet.source)]
        }
    }

    func handleICMPv6(_ packet: IPv6Packet, from ethernet: EthernetFrame, now: UInt64) -> [[UInt8]] {
        guard let message = ICMPv6Message(parsing: packet.payload, source: packet.source, destination: packet.destination) else {
            framesDropped += 1
            return []
        }
        switch message.type {
        case ICMPv6Message.echoRequest:
            guard isOurs(packet.destination) || packet.destination == .allNodes, let source = sourceAddress(for: packet.source),
                  !packet.source.isMulticast else { return [] }
            ipv6.echoRepliesSent += 1
            return [icmpv6Frame(ICMPv6Message(type: ICMPv6Message.echoReply, body: message.body),
                                from: packet.destination.isMulticast ? source : packet.destination, to: packet.source, mac: ethernet.source)]
        case ICMPv6Message.neighborSolicitation:
            guard let solicitation = NeighborMessage(parsing: message, hopLimit: packet.hopLimit) else { framesDropped += 1; return [] }
            return answer(solicitation, from: packet, ethernet: ethernet, now: now)
        case ICMPv6Message.neighborAdvertisement:
            guard let advertisement = NeighborMessage(parsing: message, hopLimit: packet.hopLimit) else { framesDropped += 1; return [] }
            if let index = ipv6.addresses.firstIndex(where: { $0.address == advertisement.target && $0.tentative }) {
                duplicateFound(at: index)
            } else {
                take(advertisement, now: now)
            }
            return []
        case ICMPv6Message.mldQuery:
            // RFC 3810 5.1: from a link-local router, hop limit 1; the group :: asks about all of ours.
            guard packet.hopLimit == 1, packet.source.isLinkLocal, message.body.count >= 20 else { framesDropped += 1; return [] }
            let group = IPv6Address(bytes: message.body[4..<20])
            let groups = ipv6Groups.filter { $0 != .allNodes && (group.isUnspecified || $0 == group) }   // all-nodes is never reported
            guard !groups.isEmpty else { return [] }
            // Answer at a random moment within the maximum response delay (milliseconds; at most a second here).
            let milliseconds = min(UInt64(readBE16(message.body[...], 0)), 1000)
            let due = now &+ (milliseconds == 0 ? 0 : nextRandom() % (milliseconds * clock.frequency / 1000 + 1))
            ipv6.reportDue = min(ipv6.reportDue ?? due, due)
            if group.isUnspecified { ipv6.reportGroups = [] }
            for group in groups where !ipv6.reportGroups.contains(group) { ipv6.reportGroups.append(group) }
            return []
        case ICMPv6Message.packetTooBig:
            return takePacketTooBig(message, now: now)
        case ICMPv6Message.routerAdvertisement:
            guard let advertisement = RouterAdvertisement(parsing: message, source: packet.source, hopLimit: packet.hopLimit) else {
                framesDropped += 1
                return []
            }
            take(advertisement, from: packet.source, mac: advertisement.options.sourceLinkLayer, now: now)
            return []
        default:
            return []
        }
    }

    /// A neighbour solicitation: DAD by another node for one of our addresses, or a question for our MAC.
    func answer(_ solicitation: NeighborMessage, from packet: IPv6Packet, ethernet: EthernetFrame, now: UInt64) -> [[UInt8]] {
        guard let index = ipv6.addresses.firstIndex(where: { $0.address == solicitation.target }) else { return [] }
        if packet.source.isUnspecified {
            // Someone else's duplicate address detection.
            if ipv6.addresses[index].tentative { duplicateFound(at: index); return [] }
            let advertisement = NeighborMessage(advertisementFor: solicitation.target, solicited: false, override: true,
                                                options: NDOptions(targetLinkLayer: network.macAddress))
            return [icmpv6Frame(advertisement.message, from: solicitation.target, to: .allNodes, mac: .zero, hopLimit: 255)]
        }
        guard !ipv6.addresses[index].tentative else { return [] }
        let mac = solicitation.options.sourceLinkLayer ?? ethernet.source
        if let linkLayer = solicitation.options.sourceLinkLayer { heard(from: packet.source, linkLayer) }
        let advertisement = NeighborMessage(advertisementFor: solicitation.target, solicited: true, override: true,
                                            options: NDOptions(targetLinkLayer: network.macAddress))
        return [icmpv6Frame(advertisement.message, from: solicitation.target, to: packet.source, mac: mac, hopLimit: 255)]
    }

    func duplicateFound(at index: Int) {
        ipv6.duplicates.append(ipv6.addresses[index].address)
        ipv6.addresses.remove(at: index)
    }

    /// A router's Packet Too Big (RFC 8201) about a packet of ours: the path to
    /// its destination carries at most the MTU given, never taken below IPv6's
    /// 1280. New TCP connections to it start at that size, for ten minutes.
    /// When the quoted packet is TCP, its connection shrinks its segments and
    /// sends again what was lost, if the quoted sequence number is one in
    /// flight (RFC 5927): a blind sender cannot shrink a connection.
    func takePacketTooBig(_ message: ICMPv6Message, now: UInt64) -> [[UInt8]] {
        let body = message.body[...]
        guard body.count >= 4 + 40, body[4] >> 4 == 6 else { framesDropped += 1; return [] }
        let source = IPv6Address(bytes: body[12..<28]), destination = IPv6Address(bytes: body[28..<44])
        guard isOurs(source), !destination.isMulticast else { framesDropped += 1; return [] }
        let mtu = Int(max(readBE32(body, 0), 1280))
        var frames: [[UInt8]] = []
        if body[10] == IPv6Packet.tcp {
            guard body.count >= 44 + 8 else { framesDropped += 1; return [] }
            let localPort = readBE16(body, 44), remotePort = readBE16(body, 46), sequence = readBE32(body, 48)
            guard let connection = tcpConnections.first(where: {
                $0.localAddress == .v6(source) && $0.remoteAddress == .v6(destination) && $0.localPort == localPort && $0.remotePort == remotePort
            }), !TCPConnection.before(sequence, connection.sendUnacknowledged), TCPConnection.before(sequence, connection.sendNext) else {
                framesDropped += 1
                return []
            }
            for segment in connection.pathMTUShrank(to: mtu) { frames.append(frame(for: segment, to: connection)) }
        }
        ipv6.pathMTUs.removeAll { $0.destination == destination || now >= $0.until }
        if ipv6.pathMTUs.count >= 16 { ipv6.pathMTUs.removeFirst() }
        ipv6.pathMTUs.append((destination, mtu, now &+ 600 * clock.frequency))
        return frames
    }

    /// The path MTU to `address` a router reported, if one did in the last ten minutes.
    func reportedPathMTU(to address: IPAddress, now: UInt64) -> Int? {
        guard case .v6(let destination) = address else { return nil }
        return ipv6.pathMTUs.first { $0.destination == destination && now < $0.until }?.mtu
    }

    /// A neighbour's own solicitation or advertisement named its MAC (RFC 4861
    /// 7.2.3, 6.3.4): a new entry, or a changed address, is STALE until confirmed.
    func heard(from address: IPv6Address, _ mac: MACAddress) {
        guard !address.isUnspecified, !address.isMulticast else { return }
        if let index = ipv6.neighbors.firstIndex(where: { $0.address == address }) {
            guard ipv6.neighbors[index].mac != mac else { return }
            ipv6.neighbors[index].mac = mac
            ipv6.neighbors[index].state = .stale
        } else {
            remember(address, mac, .stale)
        }
    }

    /// A neighbour advertisement for someone else's address (RFC 4861 7.2.5).
    func take(_ advertisement: NeighborMessage, now: UInt64) {
        let target = advertisement.target
        let reachable = IPv6State.NeighborState.reachable(until: now &+ IPv6State.reachableSeconds * clock.frequency)
        guard let index = ipv6.neighbors.firstIndex(where: { $0.address == target }) else {
            // INCOMPLETE: only the address being resolved is taken, and only with its MAC.
            guard isResolving(.v6(target)), let mac = advertisement.options.targetLinkLayer else { return }
            remember(target, mac, advertisement.solicited ? reachable : .stale)
            return
        }
        let mac = advertisement.options.targetLinkLayer
        let changed = mac != nil && mac != ipv6.neighbors[index].mac
        if changed && !advertisement.override {
            // Another MAC without the override flag: a REACHABLE entry only becomes suspect.
            if case .reachable = ipv6.neighbors[index].state { ipv6.neighbors[index].state = .stale }
            return
        }
        if let mac { ipv6.neighbors[index].mac = mac }
        if advertisement.solicited {
            ipv6.neighbors[index].state = reachable
        } else if changed {
            ipv6.neighbors[index].state = .stale
        }
    }

    func remember(_ address: IPv6Address, _ mac: MACAddress, _ state: IPv6State.NeighborState) {
        if ipv6.neighbors.count >= IPv6State.neighborCacheSize { ipv6.neighbors.removeFirst() }
        ipv6.neighbors.append(IPv6State.Neighbor(address: address, mac: mac, state: state))
    }

    /// The cached MAC for `address`, to send to it now: a REACHABLE entry past
    /// its time is STALE, and sending to a STALE one starts the DELAY (RFC 4861 7.3.3).
    func neighborMAC(_ address: IPv6Address, now: UInt64) -> MACAddress? {
        guard let index = ipv6.neighbors.firstIndex(where: { $0.address == address }) else { return nil }
        if case .reachable(let until) = ipv6.neighbors[index].state, now >= until { ipv6.neighbors[index].state = .stale }
        if ipv6.neighbors[index].state == .stale {
            ipv6.neighbors[index].state = .delay(until: now &+ IPv6State.delaySeconds * clock.frequency)
        }
        return ipv6.neighbors[index].mac
    }

    /// DELAY becomes PROBE, and PROBE sends its unicast solicitations, a second
    /// apart; after the last goes unanswered the entry is dropped.
    func probeNeighbors(now: UInt64) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for index in ipv6.neighbors.indices.reversed() {
            let neighbor = ipv6.neighbors[index]
            var sent: Int
            switch neighbor.state {
            case .delay(let until) where now >= until: sent = 0
            case .probe(let count, let next) where now >= next: sent = count
            default: continue
            }
            guard sent < IPv6State.unicastSolicitations, let source = sourceAddress(for: neighbor.address) else {
                ipv6.neighbors.remove(at: index)
                continue
            }
            sent += 1
            ipv6.neighbors[index].state = .probe(sent: sent, next: now &+ IPv6State.retransmitSeconds * clock.frequency)
            let solicitation = NeighborMessage(solicitationFor: neighbor.address, options: NDOptions(sourceLinkLayer: network.macAddress))
            frames.append(icmpv6Frame(solicitation.message, from: source, to: neighbor.address, mac: neighbor.mac, hopLimit: 255))
        }
        return frames
    }

    /// A router advertisement (RFC 4861 6.3.4): the default router, the hop limit, on-link prefixes, and
    /// SLAAC addresses from autonomous /64 prefixes (RFC 4862 5.5.3), with their lifetimes.
    func take(_ advertisement: RouterAdvertisement, from router: IPv6Address, mac: MACAddress?, now: UInt64) {
        ipv6.sawAdvertisement = true
        ipv6.nextSolicitation = nil
        if advertisement.hopLimit != 0 { ipv6.hopLimit = advertisement.hopLimit }
        if let mac { heard(from: router, mac) }
        ipv6.routers.removeAll { $0.address == router }
        if advertisement.routerLifetime > 0 {
            ipv6.routers.append((router, now &+ UInt64(advertisement.routerLifetime) * clock.frequency))
        }
        // RFC 8106 5.1: each option's addresses are kept for its lifetime; a lifetime of 0 removes them.
        ipv6.nameServers.removeAll { server in server.until.map { $0 <= now } ?? false }
        for option in advertisement.options.nameServers {
            let until = option.lifetime == 0xFFFF_FFFF ? nil : now &+ UInt64(option.lifetime) * clock.frequency
            for address in option.addresses where !address.isMulticast && !address.isUnspecified {
                ipv6.nameServers.removeAll { $0.address == address }
                if option.lifetime > 0 && ipv6.nameServers.count < IPv6State.nameServerLimit { ipv6.nameServers.append((address, until)) }
            }
        }
        for prefix in advertisement.options.prefixes where !prefix.prefix.isLinkLocal && prefix.validLifetime >= prefix.preferredLifetime {
            let until = prefix.validLifetime == 0xFFFF_FFFF ? nil : now &+ UInt64(prefix.validLifetime) * clock.frequency
            let preferredUntil = prefix.preferredLifetime == 0xFFFF_FFFF ? nil : now &+ UInt64(prefix.preferredLifetime) * clock.frequency
            if prefix.onLink {
                ipv6.onLink.removeAll { $0.prefix == prefix.prefix && $0.length == prefix.length }
                if prefix.validLifetime > 0 { ipv6.onLink.append((prefix.prefix, prefix.length, until)) }
            }
            guard prefix.autonomous, prefix.length == 64 else { continue }
            let address = prefix.prefix.withInterfaceIdentifier(IPv6Address.interfaceIdentifier(mac: network.macAddress))
            if let index = ipv6.addresses.firstIndex(where: { $0.address == address }) {
                ipv6.addresses[index].preferredUntil = preferredUntil   // taken as it comes (5.5.3 e)
                // RFC 4862 5.5.3 (e): a shorter lifetime is taken only if it is over two hours, or longer than what is left.
                let left = ipv6.addresses[index].validUntil.map { $0 > now ? ($0 - now) / clock.frequency : 0 } ?? UInt64.max
                if UInt64(prefix.validLifetime) > 7200 || UInt64(prefix.validLifetime) > left {
                    ipv6.addresses[index].validUntil = until
                } else if left > 7200 {
                    ipv6.addresses[index].validUntil = now &+ 7200 * clock.frequency
                }
            } else if prefix.validLifetime > 0, !ipv6.duplicates.contains(address) {
                ipv6.addresses.append(IPv6State.Assigned(address: address, prefixLength: 64, tentative: true, validUntil: until,
                                                         preferredUntil: preferredUntil))
            }
        }
    }

    // MARK: Timers

    /// DAD probes and their outcome, router solicitations, MLD reports, and lifetimes running out.
    func pollIPv6(now: UInt64) -> [[UInt8]] {
        guard ipv6.enabled else { return [] }
        var frames: [[UInt8]] = []
        var joined = false
        for index in ipv6.addresses.indices where ipv6.addresses[index].tentative {
            if let probedAt = ipv6.addresses[index].probedAt {
                // RFC 4862: one solicitation (DupAddrDetectTransmits = 1), then RetransTimer (1 s) of silence.
                if now &- probedAt >= clock.frequency { ipv6.addresses[index].tentative = false }
            } else {
                ipv6.addresses[index].probedAt = now
                joined = true
                let target = ipv6.addresses[index].address
                let solicitation = NeighborMessage(solicitationFor: target, options: NDOptions())
                frames.append(icmpv6Frame(solicitation.message, from: .unspecified, to: target.solicitedNode, mac: .zero, hopLimit: 255))
            }
        }
        if joined, let linkLocal = ipv6.addresses.first?.address {
            // Join the solicited-node groups before DAD (RFC 4862 5.4.2), so switches that snoop MLD pass the answers.
            let source = isOurs(linkLocal) ? linkLocal : IPv6Address.unspecified
            let report = NDEmit.listenerReport(joining: ipv6Groups.filter { $0 != .allNodes })
            frames.append(EthernetFrame.emit(destination: IPv6Address.allMLDv2Routers.multicastMAC, source: network.macAddress,
                                             etherType: EthernetFrame.ipv6, payload: NDEmit.mldPacket(source: source, report: report)))
        }
        if let due = ipv6.reportDue, now >= due, let linkLocal = ipv6.addresses.first(where: { $0.address.isLinkLocal && !$0.tentative }) {
            ipv6.reportDue = nil
            let report = NDEmit.listenerReport(joining: ipv6.reportGroups, answering: true)
            ipv6.reportGroups = []
            frames.append(EthernetFrame.emit(destination: IPv6Address.allMLDv2Routers.multicastMAC, source: network.macAddress,
                                             etherType: EthernetFrame.ipv6, payload: NDEmit.mldPacket(source: linkLocal.address, report: report)))
        }
        if let due = ipv6.nextSolicitation, now >= due, let linkLocal = ipv6.addresses.first, !linkLocal.tentative,
           linkLocal.address.isLinkLocal {
            ipv6.solicitationsSent += 1
            ipv6.nextSolicitation = ipv6.solicitationsSent < 3 ? now &+ 4 * clock.frequency : nil
            frames.append(icmpv6Frame(NDEmit.routerSolicitation(mac: network.macAddress), from: linkLocal.address, to: .allRouters,
                                      mac: .zero, hopLimit: 255))
        }
        frames += probeNeighbors(now: now)
        ipv6.addresses.removeAll { $0.validUntil.map { now >= $0 } ?? false }
        ipv6.routers.removeAll { $0.until.map { now >= $0 } ?? false }
        ipv6.onLink.removeAll { $0.until.map { now >= $0 } ?? false }
        return frames
    }

    /// The earliest IPv6 timer, for the stack's sleep.
    var nextIPv6Deadline: UInt64? {
        guard ipv6.enabled else { return nil }
        var deadlines = ipv6.addresses.compactMap { $0.tentative ? ($0.probedAt.map { $0 &+ clock.frequency } ?? 0) : nil }
        if let next = ipv6.nextSolicitation { deadlines.append(next) }
        if let due = ipv6.reportDue { deadlines.append(due) }
        for neighbor in ipv6.neighbors {
            switch neighbor.state {
            case .delay(let until): deadlines.append(until)
            case .probe(_, let next): deadlines.append(next)
            default: break
            }
        }
        return deadlines.min()
    }

    // MARK: Sending

    /// RFC 6724's source address selection (section 5) among addresses that
    /// passed DAD, by its rules that apply to one interface without temporary
    /// or home addresses: the destination itself (rule 1), the destination's
    /// scope (2), not deprecated (3), then the longest common prefix (8).
    func sourceAddress(for destination: IPv6Address) -> IPv6Address? {
        let now = clock.ticks()
        let usable = ipv6.addresses.filter { !$0.tentative }
        if usable.contains(where: { $0.address == destination }) { return destination }
        let linkScope = destination.isLinkLocal || destination.isMulticast && destination.high >> 48 == 0xFF02
        func better(_ a: IPv6State.Assigned, than b: IPv6State.Assigned) -> Bool {
            if (a.address.isLinkLocal == linkScope) != (b.address.isLinkLocal == linkScope) { return a.address.isLinkLocal == linkScope }
            if a.isPreferred(at: now) != b.isPreferred(at: now) { return a.isPreferred(at: now) }
            return a.address.commonPrefixLength(with: destination) > b.address.commonPrefixLength(with: destination)
        }
        var best: IPv6State.Assigned?
        for candidate in usable where best.map({ better(candidate, than: $0) }) ?? true { best = candidate }
        return best?.address
    }

    /// Where a packet for `destination` goes first: itself on the link, else a default router.
    func nextHop(forIPv6 destination: IPv6Address) throws(NetworkError) -> IPv6Address {
        if destination.isLinkLocal || destination.isMulticast { return destination }
        if ipv6.onLink.contains(where: { destination.matches($0.prefix, length: $0.length) }) { return destination }
        guard let router = ipv6.routers.first?.address else { throw .unreachable }
        return router
    }
}
