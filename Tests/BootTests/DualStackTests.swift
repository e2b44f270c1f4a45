@testable import Boot
import XCTest

/// The stack's IPv6 side on the host: duplicate address detection, SLAAC
/// from a router advertisement, neighbour discovery, echo, and UDP and TCP
/// over IPv6 beside IPv4, with a fake interface and clock (1 MHz).
final class DualStackTests: XCTestCase {
    typealias Network = IPStackTests.FakeNetwork
    let peerMAC: MACAddress = [2, 0, 0, 0, 0, 1]
    let peer = IPv6Address("fe80::1")!
    let routerMAC: MACAddress = [2, 0, 0, 0, 0, 2]
    let router = IPv6Address("fe80::2")!

    func stack(_ setting: String = "auto") -> (IPInterface<Network, FakeClock>, Network, FakeClock) {
        let network = Network(), clock = FakeClock()
        let ipv4 = IPInterface(network: network, clock: clock, random: SeededRandom(), address: "10.0.2.15/24", gateway: "", ipv6: setting)
        return (ipv4, network, clock)
    }

    func frame(_ message: ICMPv6Message, from source: IPv6Address, to destination: IPv6Address, mac: MACAddress, hopLimit: UInt8 = 255,
               destinationMAC: MACAddress) -> [UInt8] {
        EthernetFrame.emit(destination: destinationMAC, source: mac, etherType: EthernetFrame.ipv6,
                           payload: IPv6Packet.emit(source: source, destination: destination, nextHeader: IPv6Packet.icmpv6,
                                                    payload: message.emit(source: source, destination: destination), hopLimit: hopLimit))
    }

    func packets(_ frames: [[UInt8]]) -> [IPv6Packet] {
        frames.compactMap { EthernetFrame(parsing: $0) }.filter { $0.etherType == EthernetFrame.ipv6 }.compactMap { IPv6Packet(parsing: $0.payload) }
    }

    func messages(_ frames: [[UInt8]]) -> [ICMPv6Message] {
        packets(frames).filter { $0.nextHeader == IPv6Packet.icmpv6 }
            .compactMap { ICMPv6Message(parsing: $0.payload, source: $0.source, destination: $0.destination) }
    }

    /// Runs the timers for `seconds` of fake time.
    func advance(_ ipv4: IPInterface<Network, FakeClock>, _ clock: FakeClock, seconds: Double) {
        ipv4.run(for: UInt64(seconds * 1e9))
    }

    func testLinkLocalThenSLAACWithDuplicateAddressDetection() throws {
        let (ipv4, network, clock) = stack()
        let linkLocal = IPv6Address.linkLocal(mac: network.macAddress)
        XCTAssertEqual(ipv4.ipv6Addresses, [], "tentative until DAD passes")
        advance(ipv4, clock, seconds: 0.5)
        let dad = try XCTUnwrap(packets(network.sent).first { $0.source.isUnspecified && $0.nextHeader == IPv6Packet.icmpv6 })
        XCTAssertEqual(dad.destination, linkLocal.solicitedNode)
        XCTAssertEqual(NeighborMessage(parsing: ICMPv6Message(parsing: dad.payload, source: dad.source, destination: dad.destination)!,
                                       hopLimit: dad.hopLimit)?.target, linkLocal)
        XCTAssertTrue(packets(network.sent).contains { $0.destination == .allMLDv2Routers && $0.hopLimit == 1 }, "an MLDv2 report")
        advance(ipv4, clock, seconds: 3)
        XCTAssertEqual(ipv4.ipv6Addresses, [linkLocal])
        let solicitation = try XCTUnwrap(messages(network.sent).first { $0.type == ICMPv6Message.routerSolicitation })
        XCTAssertEqual(NDOptions(parsing: solicitation.body[4...])?.sourceLinkLayer, network.macAddress)

        // A router advertises 2001:db8:1::/64: the SLAAC address goes through DAD, then is used.
        network.sent.removeAll()
        var options: [UInt8] = [1, 1] + routerMAC.bytes
        options += [3, 4, 64, 0xC0] + [0, 1, 0x51, 0x80] + [0, 0, 0x38, 0x40] + [0, 0, 0, 0] + IPv6Address("2001:db8:1::")!.bytes
        let advertisement = ICMPv6Message(type: ICMPv6Message.routerAdvertisement, body: [64, 0, 0x07, 0x08] + [UInt8](repeating: 0, count: 8) + options)
        _ = ipv4.handle(frame(advertisement, from: router, to: .allNodes, mac: routerMAC, destinationMAC: IPv6Address.allNodes.multicastMAC),
                        now: clock.ticks())
        let global = IPv6Address("2001:db8:1::5054:ff:fe12:3456")!
        XCTAssertFalse(ipv4.ipv6Addresses.contains(global))
        advance(ipv4, clock, seconds: 1.5)
        XCTAssertEqual(ipv4.ipv6Addresses, [linkLocal, global])
        XCTAssertEqual(ipv4.sourceAddress(for: IPv6Address("2001:db8:5::1")!), global)
        XCTAssertEqual(ipv4.sourceAddress(for: IPv6Address("fe80::9")!), linkLocal)
        XCTAssertEqual(try ipv4.nextHop(forIPv6: IPv6Address("2001:db8:5::1")!), router, "off the link: the default router")
        XCTAssertEqual(try ipv4.nextHop(forIPv6: IPv6Address("2001:db8:1::77")!), IPv6Address("2001:db8:1::77")!, "on the link")
        // Echo to the global address is answered from it.
        let echo = ICMPv6Message(type: ICMPv6Message.echoRequest, body: [0, 7, 0, 1] + Array("ping".utf8))
        let replies = messages(ipv4.handle(frame(echo, from: IPv6Address("2001:db8:1::1")!, to: global, mac: peerMAC, hopLimit: 64,
                                                 destinationMAC: network.macAddress), now: clock.ticks()))
        XCTAssertEqual(replies, [ICMPv6Message(type: ICMPv6Message.echoReply, body: [0, 7, 0, 1] + Array("ping".utf8))])
    }

    func testNeighborSolicitationsAreAnsweredAndConflictsDetected() throws {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        let ours = IPv6Address("2001:db8::5")!
        advance(ipv4, clock, seconds: 0.1)
        // Another node answers our DAD for the static address: it is a duplicate, dropped.
        let taken = NeighborMessage(advertisementFor: ours, solicited: false, override: true, options: NDOptions(targetLinkLayer: peerMAC))
        _ = ipv4.handle(frame(taken.message, from: peer, to: .allNodes, mac: peerMAC, destinationMAC: IPv6Address.allNodes.multicastMAC),
                        now: clock.ticks())
        advance(ipv4, clock, seconds: 2)
        XCTAssertEqual(ipv4.ipv6Duplicates, [ours])
        XCTAssertEqual(ipv4.ipv6Addresses, [.linkLocal(mac: network.macAddress)])
        // A solicitation for our link-local address: a solicited advertisement with our MAC, and the asker learnt.
        let linkLocal = IPv6Address.linkLocal(mac: network.macAddress)
        let question = NeighborMessage(solicitationFor: linkLocal, options: NDOptions(sourceLinkLayer: peerMAC))
        let answers = ipv4.handle(frame(question.message, from: peer, to: linkLocal.solicitedNode, mac: peerMAC,
                                        destinationMAC: linkLocal.solicitedNode.multicastMAC), now: clock.ticks())
        let answer = try XCTUnwrap(messages(answers).first.flatMap { NeighborMessage(parsing: $0, hopLimit: 255) })
        XCTAssertTrue(answer.isAdvertisement && answer.solicited && answer.override)
        XCTAssertEqual(answer.target, linkLocal)
        XCTAssertEqual(answer.options.targetLinkLayer, network.macAddress)
        XCTAssertEqual(ipv4.ipv6.neighbors.first?.mac, peerMAC)
        // With a hop limit below 255 it came through a router: ignored.
        XCTAssertEqual(ipv4.handle(frame(question.message, from: peer, to: linkLocal.solicitedNode, mac: peerMAC, hopLimit: 64,
                                         destinationMAC: linkLocal.solicitedNode.multicastMAC), now: clock.ticks()), [])
    }

    /// RFC 4861's neighbour states, step by step with the fake clock: STALE
    /// from a solicitation, DELAY when traffic goes, PROBE by unicast, REACHABLE
    /// on a solicited answer, and an entry that stops answering dropped.
    func testNeighborUnreachabilityDetection() throws {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        let them = IPv6Address("2001:db8::9")!
        let ours = IPv6Address("2001:db8::5")!
        func state() -> IPv6State.NeighborState? { ipv4.ipv6.neighbors.first { $0.address == them }?.state }
        func solicitations() -> [(destination: IPv6Address, mac: MACAddress)] {
            network.sent.compactMap { bytes in
                guard let frame = EthernetFrame(parsing: bytes), let packet = IPv6Packet(parsing: frame.payload),
                      let message = ICMPv6Message(parsing: packet.payload, source: packet.source, destination: packet.destination),
                      message.type == ICMPv6Message.neighborSolicitation else { return nil }
                return (packet.destination, frame.destination)
            }
        }
        // Their solicitation names their MAC: a STALE entry, and no question of ours.
        let question = NeighborMessage(solicitationFor: ours, options: NDOptions(sourceLinkLayer: peerMAC))
        _ = ipv4.handle(frame(question.message, from: them, to: ours.solicitedNode, mac: peerMAC,
                              destinationMAC: ours.solicitedNode.multicastMAC), now: clock.ticks())
        XCTAssertEqual(state(), .stale)
        network.sent.removeAll()
        try ipv4.sendUDP([1], to: .v6(them), port: 9, from: 7)
        XCTAssertEqual(solicitations().count, 0, "a STALE entry is used at once")
        XCTAssertEqual(EthernetFrame(parsing: network.sent[0])?.destination, peerMAC)
        guard case .delay = state() else { return XCTFail("sending to a STALE entry starts DELAY, not \(String(describing: state()))") }
        // Five seconds with no confirmation: a unicast solicitation to their MAC, PROBE.
        advance(ipv4, clock, seconds: 5.5)
        XCTAssertEqual(solicitations().map(\.destination), [them])
        XCTAssertEqual(solicitations().map(\.mac), [peerMAC])
        guard case .probe(sent: 1, _) = state() else { return XCTFail("PROBE after DELAY, not \(String(describing: state()))") }
        // Their solicited answer: REACHABLE, and no more probes.
        let answer = NeighborMessage(advertisementFor: them, solicited: true, override: true, options: NDOptions(targetLinkLayer: peerMAC))
        _ = ipv4.handle(frame(answer.message, from: them, to: ours, mac: peerMAC, destinationMAC: network.macAddress), now: clock.ticks())
        guard case .reachable = state() else { return XCTFail("REACHABLE on a solicited answer") }
        network.sent.removeAll()
        advance(ipv4, clock, seconds: 3)
        XCTAssertEqual(solicitations().count, 0)
        // An unsolicited advertisement of another MAC without the override flag only makes it suspect.
        let other: MACAddress = [2, 0, 0, 0, 0, 9]
        let claim = NeighborMessage(advertisementFor: them, solicited: false, override: false, options: NDOptions(targetLinkLayer: other))
        _ = ipv4.handle(frame(claim.message, from: them, to: .allNodes, mac: other, destinationMAC: IPv6Address.allNodes.multicastMAC),
                        now: clock.ticks())
        XCTAssertEqual(state(), .stale)
        XCTAssertEqual(ipv4.ipv6.neighbors.first { $0.address == them }?.mac, peerMAC)
        // Sent to again, it is probed three times, a second apart, and, unanswered, forgotten.
        try ipv4.sendUDP([2], to: .v6(them), port: 9, from: 7)
        advance(ipv4, clock, seconds: 9)
        XCTAssertEqual(solicitations().map(\.destination), [them, them, them])
        XCTAssertNil(state(), "an entry that never answers goes")
        // The next datagram resolves afresh: multicast solicitations to their solicited-node group,
        // three a second apart, while the datagram waits; then it is dropped.
        network.sent.removeAll()
        try ipv4.sendUDP([3], to: .v6(them), port: 9, from: 7)
        advance(ipv4, clock, seconds: 4)
        XCTAssertEqual(solicitations().map(\.destination), [them.solicitedNode, them.solicitedNode, them.solicitedNode])
        XCTAssertEqual(network.sent.count, 3, "the datagram never went")
    }

    /// A router's Packet Too Big (RFC 8201): the connection whose segment it
    /// quotes sends again what was in flight in segments that fit, one that
    /// quotes a sequence number not in flight is ignored (RFC 5927), and new
    /// connections to that destination start small.
    func testPacketTooBigShrinksSegmentsToThePathMTU() throws {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        let ours = IPv6Address("2001:db8::5")!, them = IPv6Address("2001:db8:7::9")!, router = IPv6Address("2001:db8::1")!
        _ = try ipv4.listenTCP(port: 80)
        func tcpFrame(_ segment: TCPSegment) -> [UInt8] {
            EthernetFrame.emit(destination: network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv6,
                               payload: IPv6Packet.emit(source: them, destination: ours, nextHeader: IPv6Packet.tcp,
                                                        payload: segment.emit(between: .v6(source: them, destination: ours))))
        }
        func sentSegments() -> [(packet: IPv6Packet, segment: TCPSegment)] {
            packets(network.sent).filter { $0.nextHeader == IPv6Packet.tcp }.compactMap { packet in
                TCPSegment(parsing: packet.payload, between: .v6(source: ours, destination: them)).map { (packet, $0) }
            }
        }
        func connect(port: UInt16) throws -> (TCPConnection, UInt32) {
            let syn = TCPSegment(sourcePort: port, destinationPort: 80, sequence: 1000, acknowledgment: 0, flags: TCPSegment.syn,
                                 window: 65535, options: TCPOptions(maximumSegmentSize: 1440))
            let synAck = try XCTUnwrap(packets(ipv4.handle(tcpFrame(syn), now: clock.ticks())).first
                .flatMap { TCPSegment(parsing: $0.payload, between: .v6(source: ours, destination: them)) })
            XCTAssertEqual(synAck.options.maximumSegmentSize, 1440, "over IPv6 our MSS is 1500 less 60")
            _ = ipv4.handle(tcpFrame(TCPSegment(sourcePort: port, destinationPort: 80, sequence: 1001, acknowledgment: synAck.sequence &+ 1,
                                                flags: TCPSegment.ack, window: 65535)), now: clock.ticks())
            return (try XCTUnwrap(ipv4.accept(on: 80)), synAck.sequence &+ 1)
        }
        let (connection, first) = try connect(port: 40000)
        network.sent.removeAll()
        _ = try ipv4.offer(connection, Array(repeating: 7, count: 4000)[...])
        let sent = sentSegments()
        XCTAssertEqual(sent.map { $0.segment.data.count }, [1440, 1440, 1120])
        func tooBig(_ mtu: UInt32, quoting packet: IPv6Packet) -> [UInt8] {
            var body: [UInt8] = []
            appendBE32(&body, mtu)
            body += Array(packet.bytes.prefix(1280 - 48))
            return frame(ICMPv6Message(type: ICMPv6Message.packetTooBig, body: body), from: router, to: ours, mac: peerMAC, hopLimit: 64,
                         destinationMAC: network.macAddress)
        }
        // One quoting a sequence number that is not in flight: ignored.
        network.sent.removeAll()
        var forged = sent[0].segment
        forged = TCPSegment(sourcePort: forged.sourcePort, destinationPort: forged.destinationPort, sequence: first &- 5000,
                            acknowledgment: forged.acknowledgment, flags: forged.flags, window: forged.window)
        let forgedPacket = try XCTUnwrap(IPv6Packet(parsing: IPv6Packet.emit(source: ours, destination: them, nextHeader: IPv6Packet.tcp,
                                                                             payload: forged.emit(between: .v6(source: ours, destination: them)))[...]))
        XCTAssertEqual(ipv4.handle(tooBig(1280, quoting: forgedPacket), now: clock.ticks()), [])
        XCTAssertEqual(connection.segmentSize, 1440)
        // The real one, for the first segment, MTU 1300: what was in flight goes again in 1240-byte segments.
        let resent = ipv4.handle(tooBig(1300, quoting: sent[0].packet), now: clock.ticks())
        network.sent = resent
        XCTAssertEqual(sentSegments().first?.segment.sequence, first)
        XCTAssertEqual(sentSegments().map { $0.segment.data.count }, [1240, 1240, 1240], "the last 280 bytes wait for an ACK (Nagle)")
        XCTAssertTrue(sentSegments().allSatisfy { $0.packet.bytes.count == 1300 })
        XCTAssertEqual(connection.segmentSize, 1240)
        network.sent = ipv4.handle(tcpFrame(TCPSegment(sourcePort: 40000, destinationPort: 80, sequence: 1001, acknowledgment: first &+ 3720,
                                                       flags: TCPSegment.ack, window: 65535)), now: clock.ticks())
        network.sent += ipv4.pollTCP(now: clock.ticks())
        XCTAssertEqual(sentSegments().map { $0.segment.data.count }.suffix(1), [280])
        // Below IPv6's minimum MTU: taken as 1280.
        _ = ipv4.handle(tooBig(600, quoting: sentSegments()[0].packet), now: clock.ticks())
        XCTAssertEqual(connection.segmentSize, 1220)
        // A new connection to the same destination starts at the reported size.
        let (second, _) = try connect(port: 40001)
        XCTAssertEqual(second.segmentSize, 1220)
    }

    /// RFC 4862's two lifetimes: past its preferred lifetime an address is
    /// deprecated (kept, but new traffic starts from another, RFC 6724 rule 3),
    /// past its valid lifetime it goes.
    func testDeprecatedAddressesAreAvoidedThenRemoved() throws {
        let (ipv4, network, clock) = stack()
        advance(ipv4, clock, seconds: 3)
        func prefix(_ text: String, preferred: UInt32, valid: UInt32) -> [UInt8] {
            var option: [UInt8] = [3, 4, 64, 0xC0]
            appendBE32(&option, valid)
            appendBE32(&option, preferred)
            return option + [0, 0, 0, 0] + IPv6Address(text)!.bytes
        }
        let options = [1, 1] + routerMAC.bytes + prefix("2001:db8:1::", preferred: 10, valid: 100) + prefix("2001:db8:2::", preferred: 1000, valid: 2000)
        let advertisement = ICMPv6Message(type: ICMPv6Message.routerAdvertisement, body: [64, 0, 0x07, 0x08] + [UInt8](repeating: 0, count: 8) + options)
        _ = ipv4.handle(frame(advertisement, from: router, to: .allNodes, mac: routerMAC, destinationMAC: IPv6Address.allNodes.multicastMAC),
                        now: clock.ticks())
        advance(ipv4, clock, seconds: 1.5)
        let first = IPv6Address("2001:db8:1::5054:ff:fe12:3456")!, second = IPv6Address("2001:db8:2::5054:ff:fe12:3456")!
        let destination = IPv6Address("2001:db8:1::77")!
        XCTAssertEqual(ipv4.sourceAddress(for: destination), first, "the longest common prefix")
        XCTAssertEqual(ipv4.sourceAddress(for: first), first, "an address of ours to itself")
        advance(ipv4, clock, seconds: 10)
        XCTAssertTrue(ipv4.ipv6Addresses.contains(first), "deprecated, not gone")
        XCTAssertEqual(ipv4.sourceAddress(for: destination), second, "a deprecated address is avoided")
        XCTAssertEqual(ipv4.sourceAddress(for: IPv6Address("fe80::9")!), .linkLocal(mac: network.macAddress), "scope first")
        advance(ipv4, clock, seconds: 90)
        XCTAssertFalse(ipv4.ipv6Addresses.contains(first), "gone after its valid lifetime")
        XCTAssertTrue(ipv4.ipv6Addresses.contains(second))
    }

    func testUDPAndTCPRunOverIPv6BesideIPv4() throws {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        let ours = IPv6Address("2001:db8::5")!, them = IPv6Address("2001:db8::9")!
        try ipv4.bindUDP(port: 7)
        try ipv4.listenTCP(port: 80)
        func ipv6Frame(_ nextHeader: UInt8, _ payload: [UInt8], to destination: IPv6Address = IPv6Address("2001:db8::5")!) -> [UInt8] {
            EthernetFrame.emit(destination: network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv6,
                               payload: IPv6Packet.emit(source: them, destination: destination, nextHeader: nextHeader, payload: payload))
        }
        let datagram = UDPDatagram(sourcePort: 5000, destinationPort: 7, data: Array("over six".utf8))
        XCTAssertEqual(ipv4.handle(ipv6Frame(IPv6Packet.udp, datagram.emit(between: .v6(source: them, destination: ours))), now: clock.ticks()), [])
        XCTAssertEqual(ipv4.udpPorts[0].queue.first, ReceivedDatagram(source: .v6(them), sourcePort: 5000, data: Array("over six".utf8)))
        let unreachable = messages(ipv4.handle(ipv6Frame(IPv6Packet.udp, UDPDatagram(sourcePort: 5000, destinationPort: 9, data: [1])
            .emit(between: .v6(source: them, destination: ours))), now: clock.ticks()))
        XCTAssertEqual(unreachable.map(\.type), [ICMPv6Message.destinationUnreachable])
        XCTAssertEqual(unreachable.first?.code, ICMPv6Message.portUnreachable)
        // A SYN over IPv6: the SYN-ACK comes back over IPv6, its checksum over IPv6's pseudo-header.
        let syn = TCPSegment(sourcePort: 40000, destinationPort: 80, sequence: 1, acknowledgment: 0, flags: TCPSegment.syn, window: 8000,
                             options: TCPOptions(maximumSegmentSize: 1440))
        let answer = try XCTUnwrap(packets(ipv4.handle(ipv6Frame(IPv6Packet.tcp, syn.emit(between: .v6(source: them, destination: ours))),
                                                       now: clock.ticks())).first)
        XCTAssertEqual(answer.source, ours)
        let synAck = try XCTUnwrap(TCPSegment(parsing: answer.payload, between: .v6(source: ours, destination: them)))
        XCTAssertEqual(synAck.flags, TCPSegment.syn | TCPSegment.ack)
        XCTAssertEqual(ipv4.tcpConnections.first?.remoteAddress, .v6(them))
        // An unknown next header: a parameter problem pointing at the field that names it.
        let problem = messages(ipv4.handle(ipv6Frame(253, [0, 0, 0, 0]), now: clock.ticks()))
        XCTAssertEqual(problem.map(\.type), [ICMPv6Message.parameterProblem])
        XCTAssertEqual(problem.first.map { Array($0.body.prefix(4)) }, [0, 0, 0, 6])
    }

    func testFragmentedEchoIsReassembledAndOverlapsDropped() throws {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        let ours = IPv6Address("2001:db8::5")!, them = IPv6Address("2001:db8::9")!
        let echo = ICMPv6Message(type: ICMPv6Message.echoRequest, body: [0, 1, 0, 1] + (0..<1200).map { UInt8(truncatingIfNeeded: $0) })
            .emit(source: them, destination: ours)
        func piece(_ offset: Int, _ length: Int, more: Bool, id: UInt32 = 99) -> [UInt8] {
            var header: [UInt8] = [IPv6Packet.icmpv6, 0]
            appendBE16(&header, UInt16(offset) | (more ? 1 : 0))
            appendBE32(&header, id)
            return EthernetFrame.emit(destination: network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv6,
                                      payload: IPv6Packet.emit(source: them, destination: ours, nextHeader: IPv6Packet.fragmentHeader,
                                                               payload: header + Array(echo[offset..<(offset + length)])))
        }
        XCTAssertEqual(ipv4.handle(piece(600, echo.count - 600, more: false), now: clock.ticks()), [])
        let replies = messages(ipv4.handle(piece(0, 600, more: true), now: clock.ticks()))
        XCTAssertEqual(replies.first?.type, ICMPv6Message.echoReply)
        XCTAssertEqual(replies.first?.body.count, 1204)
        _ = ipv4.handle(piece(0, 600, more: true, id: 100), now: clock.ticks())
        _ = ipv4.handle(piece(592, 8, more: true, id: 100), now: clock.ticks())
        XCTAssertEqual(ipv4.handle(piece(600, echo.count - 600, more: false, id: 100), now: clock.ticks()), [], "overlapping: dropped")
    }

    func testRandomIPv6FramesNeverTrap() {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        var generator = SplitMix(seed: 31)
        let base = EthernetFrame.emit(destination: network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv6,
                                      payload: IPv6Packet.emit(source: IPv6Address("2001:db8::9")!, destination: IPv6Address("2001:db8::5")!,
                                                               nextHeader: IPv6Packet.hopByHop, payload: [58, 0, 1, 4, 0, 0, 0, 0, 128, 0, 0, 0, 1, 2]))
        for _ in 0..<20000 {
            var frame = base
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                frame[14 + Int(generator.next() % UInt64(frame.count - 14))] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = ipv4.handle(Array(frame.prefix(14 + Int(generator.next() % UInt64(frame.count - 13)))), now: clock.ticks())
        }
    }

    func testIPModeChoosesTheFamilies() {
        let onlySix = IPInterface(network: Network(), clock: FakeClock(), random: SeededRandom(), mode: "ipv6", address: "10.0.2.15/24",
                              gateway: "", ipv6: "auto")
        XCTAssertFalse(onlySix.ipv4Enabled)
        XCTAssertEqual(onlySix.address, 0, "no IPv4 address")
        XCTAssertTrue(onlySix.ipv6.enabled)
        let arp = EthernetFrame.emit(destination: MACAddress.broadcast, source: peerMAC, etherType: EthernetFrame.arp,
                                     payload: ARPPacket(operation: ARPPacket.request, senderMAC: peerMAC, senderIP: 0x0A00_0201,
                                                        targetMAC: .zero, targetIP: 0x0A00_020F).emit())
        XCTAssertEqual(onlySix.handle(arp, now: 0), [], "ARP goes unanswered")
        XCTAssertThrowsError(try onlySix.sendUDP([1], to: .v4(0x0A00_0201), port: 7, from: 7)) {
            XCTAssertEqual($0 as? NetworkError, .unreachable)
        }
        let onlyFour = IPInterface(network: Network(), clock: FakeClock(), random: SeededRandom(), mode: "ipv4", address: "10.0.2.15/24",
                               gateway: "", ipv6: "auto")
        XCTAssertTrue(onlyFour.ipv4Enabled)
        XCTAssertFalse(onlyFour.ipv6.enabled, "--ipv6 auto changes nothing under --ip-mode ipv4")
    }

    func testARouterAdvertisementFromScapyGivesASLAACAddress() {
        let (ipv4, network, clock) = stack()
        advance(ipv4, clock, seconds: 2)
        let packet = bytes("6000000000383afffe800000000000000000000000000001ff0200000000000000000000000000018600f00a0008025800000000000000000101020000000001030440c000000e10000007080000000020010db8000500000000000000000000")
        _ = ipv4.handle(EthernetFrame.emit(destination: IPv6Address.allNodes.multicastMAC, source: peerMAC, etherType: EthernetFrame.ipv6,
                                           payload: packet), now: clock.ticks())
        advance(ipv4, clock, seconds: 1.5)
        XCTAssertTrue(ipv4.ipv6Addresses.contains(IPv6Address("2001:db8:5::5054:ff:fe12:3456")!), "\(ipv4.ipv6Addresses.map(\.text))")
        XCTAssertEqual(ipv4.ipv6.routers.first?.address, IPv6Address("fe80::1"))
        _ = network
    }

    /// RFC 8106: an advertisement's RDNSS option names the name servers for its lifetime; a lifetime of 0 withdraws one.
    func testRouterAdvertisementsNameNameServersForTheirLifetime() {
        let (ipv4, _, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        // scapy: IPv6(src="fe80::1", dst="ff02::1", hlim=255)/ICMPv6ND_RA(routerlifetime=600)
        //   /ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")/ICMPv6NDOptRDNSS(lifetime=300, dns=["2001:db8::53", "2001:db8::54"])
        let advertisement = bytes("6000000000403afffe800000000000000000000000000001ff020000000000000000000000000001860000530008025800000000000000000101020000000001190500000000012c20010db800000000000000000000005320010db8000000000000000000000054")
        // the same router with ICMPv6NDOptRDNSS(lifetime=0, dns=["2001:db8::53"]) and no link-layer option
        let withdrawal = bytes("6000000000283afffe800000000000000000000000000001ff020000000000000000000000000001860032a8000802580000000000000000190300000000000020010db8000000000000000000000053")
        let deliver = { (packet: [UInt8]) in
            _ = ipv4.handle(EthernetFrame.emit(destination: IPv6Address.allNodes.multicastMAC, source: self.peerMAC, etherType: EthernetFrame.ipv6,
                                               payload: packet), now: clock.ticks())
        }
        deliver(advertisement)
        XCTAssertEqual(ipv4.nameServers(now: clock.ticks()).map(\.text), ["2001:db8::53", "2001:db8::54"])
        XCTAssertEqual(ipv4.nameServers(now: clock.ticks() + 301_000_000).map(\.text), [], "past the lifetime")
        deliver(withdrawal)
        XCTAssertEqual(ipv4.nameServers(now: clock.ticks()).map(\.text), ["2001:db8::54"])
    }

    func testMulticastListenerQueriesAreAnsweredWithinTheirDelay() throws {
        let (ipv4, network, clock) = stack("2001:db8::5/64")
        advance(ipv4, clock, seconds: 2)
        network.sent.removeAll()
        // A general query (group ::) from a router, maximum response delay 500 ms, with the router alert.
        let query = ICMPv6Message(type: ICMPv6Message.mldQuery, body: [0x01, 0xF4, 0, 0] + IPv6Address.unspecified.bytes + [0, 0, 0, 0])
        let icmp = query.emit(source: router, destination: .allNodes)
        let packet = IPv6Packet.emit(source: router, destination: .allNodes, nextHeader: IPv6Packet.hopByHop,
                                     payload: [IPv6Packet.icmpv6, 0, 5, 2, 0, 0, 1, 0] + icmp, hopLimit: 1)
        _ = ipv4.handle(EthernetFrame.emit(destination: IPv6Address.allNodes.multicastMAC, source: routerMAC, etherType: EthernetFrame.ipv6,
                                           payload: packet), now: clock.ticks())
        let asked = clock.ticks()
        advance(ipv4, clock, seconds: 0.6)
        let reports = packets(network.sent).filter { $0.destination == .allMLDv2Routers }
        XCTAssertEqual(reports.count, 1, "one report within the delay")
        let report = try XCTUnwrap(reports.first.flatMap { ICMPv6Message(parsing: $0.payload, source: $0.source, destination: $0.destination) })
        XCTAssertEqual(report.type, ICMPv6Message.mldv2Report)
        XCTAssertEqual(Array(report.body[2..<4]), [0, 2], "the two solicited-node groups (link-local's and 2001:db8::5's), not all-nodes")
        XCTAssertEqual(report.body[4], 2, "MODE_IS_EXCLUDE")
        XCTAssertEqual(reports.first?.hopLimit, 1)
        XCTAssertLessThanOrEqual(clock.ticks() - asked, 600_000)
    }
}
