@testable import Boot
import XCTest

/// The IPv4 stack's packet views and its answers, on the host with a fake
/// interface and clock: frames in, frames out.
final class IPStackTests: XCTestCase {
    final class FakeNetwork: NetworkInterface {
        let macAddress: MACAddress = [0x52, 0x54, 0, 0x12, 0x34, 0x56]
        let events = WaitQueue()
        var offloads = NetworkOffloads()
        var sent: [[UInt8]] = []
        var incoming: [[UInt8]] = []
        /// Answers to what is sent, as a peer on the wire would give them.
        var respond: (([UInt8]) -> [[UInt8]])?
        func transmit(_ frame: [UInt8]) throws(NetworkError) {
            sent.append(frame)
            if let respond {
                incoming += respond(frame)
                if !incoming.isEmpty { events.wakeAll() }
            }
        }
        func receive() -> [UInt8]? { incoming.isEmpty ? nil : incoming.removeFirst() }
    }

    let peerMAC: MACAddress = [2, 0, 0, 0, 0, 1]
    let peerIP = IPv4Text.address("10.0.2.1")!

    func stack(offloads: NetworkOffloads = NetworkOffloads()) -> (IPInterface<FakeNetwork, FakeClock>, FakeNetwork) {
        let network = FakeNetwork()
        network.offloads = offloads
        return (IPInterface(network: network, clock: FakeClock(), random: SeededRandom(), address: "10.0.2.15/24", gateway: "10.0.2.2"), network)
    }

    func testAnnouncesItselfAndAnswersARPForItsAddressOnly() throws {
        let (ipv4, network) = stack()
        let announcement = try XCTUnwrap(EthernetFrame(parsing: network.sent[0]))
        XCTAssertEqual(announcement.destination, MACAddress.broadcast)
        XCTAssertEqual(ARPPacket(parsing: announcement.payload)?.targetIP, ipv4.address, "gratuitous: asks for its own address")
        let ask = { (target: UInt32) in
            EthernetFrame.emit(destination: MACAddress.broadcast, source: self.peerMAC, etherType: EthernetFrame.arp,
                               payload: ARPPacket(operation: ARPPacket.request, senderMAC: self.peerMAC, senderIP: self.peerIP,
                                                  targetMAC: .zero, targetIP: target).emit())
        }
        let answers = ipv4.handle(ask(ipv4.address), now: 0)
        XCTAssertEqual(answers.count, 1)
        let frame = try XCTUnwrap(EthernetFrame(parsing: answers[0]))
        let reply = try XCTUnwrap(ARPPacket(parsing: frame.payload))
        XCTAssertEqual(frame.destination, peerMAC)
        XCTAssertEqual(reply, ARPPacket(operation: ARPPacket.reply, senderMAC: network.macAddress, senderIP: ipv4.address,
                                        targetMAC: peerMAC, targetIP: peerIP))
        XCTAssertEqual(ipv4.cachedMAC(for: peerIP, now: 1), peerMAC, "the asker is learnt")
        XCTAssertNil(ipv4.cachedMAC(for: peerIP, now: IPInterface<FakeNetwork, FakeClock>.arpLifetime + 1), "and forgotten")
        XCTAssertEqual(ipv4.handle(ask(IPv4Text.address("10.0.2.99")!), now: 0), [], "another host's address")
    }

    func echoRequest(_ ipv4: IPInterface<FakeNetwork, FakeClock>, sequence: UInt16, data: [UInt8]) -> [UInt8] {
        let icmp = ICMPEcho(type: ICMPEcho.request, identifier: 0x1234, sequence: sequence, data: data).emit()
        let ip = IPv4Packet.emit(source: peerIP, destination: ipv4.address, protocolNumber: IPv4Packet.icmp, payload: icmp, identification: 9)
        return EthernetFrame.emit(destination: ipv4.network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv4, payload: ip)
    }

    func testAnswersEchoRequestsWithValidChecksums() throws {
        let (ipv4, network) = stack()
        let data = Array(0..<57 as Range<UInt8>)   // odd length: the checksum's last byte is padded
        let answers = ipv4.handle(echoRequest(ipv4, sequence: 3, data: data), now: 0)
        XCTAssertEqual(answers.count, 1)
        let frame = try XCTUnwrap(EthernetFrame(parsing: answers[0]))
        XCTAssertEqual(frame.destination, peerMAC)
        XCTAssertEqual(frame.source, network.macAddress)
        let ip = try XCTUnwrap(IPv4Packet(parsing: frame.payload), "a valid IPv4 header checksum")
        XCTAssertEqual(ip.source, ipv4.address)
        XCTAssertEqual(ip.destination, peerIP)
        let echo = try XCTUnwrap(ICMPEcho(parsing: ip.payload), "a valid ICMP checksum")
        XCTAssertEqual(echo, ICMPEcho(type: ICMPEcho.reply, identifier: 0x1234, sequence: 3, data: data))
        XCTAssertEqual(ipv4.echoRepliesSent, 1)
    }

    func testKnownChecksum() {
        // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2; its complement is 220d.
        XCTAssertEqual(InternetChecksum.compute([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7][...]), 0x220D)
        // The word-at-a-time sum agrees with the plain definition on any length and any start.
        var generator = SplitMix(seed: 17)
        for _ in 0..<2000 {
            let bytes = (0..<Int(generator.next() % 1600)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let start = bytes.isEmpty ? 0 : Int(generator.next() % UInt64(bytes.count))
            var plain: UInt32 = 0
            var index = start
            while index < bytes.count {
                plain += UInt32(bytes[index]) << 8 | (index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0)
                index += 2
            }
            XCTAssertEqual(InternetChecksum.finish(InternetChecksum.sum(bytes[start...], initial: 0x1234)),
                           InternetChecksum.finish(plain + 0x1234))
        }
        XCTAssertEqual(IPv4Text.address("192.168.1.20"), 0xC0A8_0114)
        XCTAssertNil(IPv4Text.address("1.2.3"))
        XCTAssertNil(IPv4Text.address("1.2.3.256"))
        XCTAssertNil(IPv4Text.prefixed("10.0.2.15/33"))
        XCTAssertEqual(IPv4Text.text(0x0A00_020F), "10.0.2.15")
    }

    /// Truncations, bit flips and random bytes: no answer to anything
    /// malformed, no trap, and the stack still answers afterwards.
    func testMalformedFramesAreDroppedAndNeverCrash() {
        let (ipv4, _) = stack()
        var generator = SplitMix(seed: 5)
        let good = echoRequest(ipv4, sequence: 1, data: [1, 2, 3, 4])
        for round in 0..<20000 {
            var frame: [UInt8]
            switch round % 3 {
            case 0: frame = Array(good.prefix(Int(generator.next() % UInt64(good.count))))
            case 1:
                frame = good
                frame[14 + Int(generator.next() % UInt64(good.count - 14))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            default: frame = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            for answer in ipv4.handle(frame, now: 0) {
                // Only a frame that still parses as a whole echo request may be answered.
                XCTAssertNotNil(EthernetFrame(parsing: answer).flatMap { IPv4Packet(parsing: $0.payload) }.flatMap { ICMPEcho(parsing: $0.payload) })
            }
        }
        XCTAssertGreaterThan(ipv4.framesDropped, 10000)
        XCTAssertEqual(ipv4.handle(good, now: 0).count, 1)
    }

    func udpFrame(_ ipv4: IPInterface<FakeNetwork, FakeClock>, port: UInt16, data: [UInt8]) -> [UInt8] {
        let udp = UDPDatagram(sourcePort: 4321, destinationPort: port, data: data).emit(source: peerIP, destination: ipv4.address)
        let ip = IPv4Packet.emit(source: peerIP, destination: ipv4.address, protocolNumber: IPv4Packet.udp, payload: udp, identification: 1)
        return EthernetFrame.emit(destination: ipv4.network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv4, payload: ip)
    }

    func testADatagramWaitsForItsNeighbourAndGoesWhenItAnswers() throws {
        let (ipv4, network) = stack()
        network.sent.removeAll()
        let gatewayMAC: MACAddress = [2, 0, 0, 0, 0, 2]
        try ipv4.sendUDP(Array("a".utf8), to: .v4(IPv4Text.address("8.8.8.8")!), port: 53, from: 1000)
        try ipv4.sendUDP(Array("b".utf8), to: .v4(IPv4Text.address("8.8.4.4")!), port: 53, from: 1000)
        XCTAssertEqual(network.sent.count, 1, "one question for the gateway, for both datagrams")
        network.incoming = [EthernetFrame.emit(destination: network.macAddress, source: gatewayMAC, etherType: EthernetFrame.arp,
                                               payload: ARPPacket(operation: ARPPacket.reply, senderMAC: gatewayMAC,
                                                                  senderIP: IPv4Text.address("10.0.2.2")!, targetMAC: network.macAddress,
                                                                  targetIP: ipv4.address).emit())]
        ipv4.run(for: 1_000)
        let datagrams = network.sent.dropFirst().compactMap { EthernetFrame(parsing: $0) }
        XCTAssertEqual(datagrams.map(\.destination), [gatewayMAC, gatewayMAC])
        XCTAssertEqual(datagrams.compactMap { IPv4Packet(parsing: $0.payload) }.map(\.destination),
                       [IPv4Text.address("8.8.8.8")!, IPv4Text.address("8.8.4.4")!], "in the order sent")
    }

    func testUDPIsQueuedOnBoundPortsAndUnreachableElsewhere() throws {
        let (ipv4, _) = stack()
        _ = try ipv4.bindUDP(port: 7)
        XCTAssertThrowsError(try ipv4.bindUDP(port: 7) as UDPPort) { XCTAssertEqual($0 as? NetworkError, .portInUse) }
        XCTAssertEqual(ipv4.handle(udpFrame(ipv4, port: 7, data: Array("hello".utf8)), now: 0), [])
        XCTAssertEqual(ipv4.udpPorts[0].queue, [ReceivedDatagram(source: .v4(peerIP), sourcePort: 4321, data: Array("hello".utf8))])
        let answers = ipv4.handle(udpFrame(ipv4, port: 9, data: [1, 2, 3]), now: 0)
        let ip = try XCTUnwrap(EthernetFrame(parsing: try XCTUnwrap(answers.first)).flatMap { IPv4Packet(parsing: $0.payload) })
        XCTAssertEqual(ip.protocolNumber, IPv4Packet.icmp)
        XCTAssertEqual(Array(ip.payload.prefix(2)), [3, 3], "destination unreachable, port")
        XCTAssertEqual(InternetChecksum.compute(ip.payload), 0)
        // A datagram whose checksum is wrong is dropped, not queued.
        var damaged = udpFrame(ipv4, port: 7, data: Array("x".utf8))
        damaged[42] ^= 0xFF   // the first data byte, after 14 + 20 + 8 bytes of headers
        _ = ipv4.handle(damaged, now: 0)
        XCTAssertEqual(ipv4.udpPorts[0].queue.count, 1)
    }

    func testSendingResolvesTheNextHopByARP() throws {
        let (ipv4, network) = stack()
        network.sent.removeAll()
        // Off the local network: through the gateway, whose address nobody gives. The datagram
        // waits while ARP asks three times, a second apart, then is dropped; nothing waits in the call.
        try ipv4.sendUDP([1], to: .v4(IPv4Text.address("8.8.8.8")!), port: 53, from: 1000)
        ipv4.run(for: 5_000_000_000)
        let asked = network.sent.compactMap { EthernetFrame(parsing: $0).flatMap { ARPPacket(parsing: $0.payload) } }
        XCTAssertEqual(asked.map(\.targetIP), [IPv4Text.address("10.0.2.2")!, IPv4Text.address("10.0.2.2")!, IPv4Text.address("10.0.2.2")!])
        XCTAssertEqual(network.sent.count, 3, "only the questions: the datagram was dropped")
        XCTAssertTrue(ipv4.pending.isEmpty)
        // The gateway answers: the datagram goes to its Ethernet address.
        let gatewayMAC: MACAddress = [2, 0, 0, 0, 0, 2]
        network.incoming = [EthernetFrame.emit(destination: network.macAddress, source: gatewayMAC, etherType: EthernetFrame.arp,
                                               payload: ARPPacket(operation: ARPPacket.reply, senderMAC: gatewayMAC,
                                                                  senderIP: IPv4Text.address("10.0.2.2")!, targetMAC: network.macAddress,
                                                                  targetIP: ipv4.address).emit())]
        ipv4.run(for: 1_000)
        network.sent.removeAll()
        try ipv4.sendUDP(Array("out".utf8), to: .v4(IPv4Text.address("8.8.8.8")!), port: 53, from: 1000)
        let frame = try XCTUnwrap(EthernetFrame(parsing: try XCTUnwrap(network.sent.last)))
        XCTAssertEqual(frame.destination, gatewayMAC)
        let ip = try XCTUnwrap(IPv4Packet(parsing: frame.payload))
        XCTAssertEqual(UDPDatagram(parsing: ip.payload, source: ip.source, destination: ip.destination),
                       UDPDatagram(sourcePort: 1000, destinationPort: 53, data: Array("out".utf8)))
    }

    func testRunAnswersWhatArrivesUntilDone() {
        let (ipv4, network) = stack()
        network.sent.removeAll()
        network.incoming = [echoRequest(ipv4, sequence: 1, data: [9]), echoRequest(ipv4, sequence: 2, data: [9])]
        XCTAssertTrue(ipv4.run(for: 1_000_000) { ipv4.echoRepliesSent == 2 })
        XCTAssertEqual(network.sent.count, 2)
    }

    /// An IPv4 fragment of `payload` from the peer: `length` bytes at `offset`.
    func fragment(_ ipv4: IPInterface<FakeNetwork, FakeClock>, _ payload: [UInt8], offset: Int, length: Int, more: Bool, id: UInt16 = 77) -> [UInt8] {
        var header: [UInt8] = [0x45, 0]
        appendBE16(&header, UInt16(20 + length))
        appendBE16(&header, id)
        appendBE16(&header, (more ? 0x2000 : 0) | UInt16(offset / 8))
        header += [64, IPv4Packet.icmp, 0, 0]
        appendBE32(&header, peerIP)
        appendBE32(&header, ipv4.address)
        let checksum = InternetChecksum.compute(header[...])
        header[10] = UInt8(checksum >> 8)
        header[11] = UInt8(truncatingIfNeeded: checksum)
        return EthernetFrame.emit(destination: ipv4.network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv4,
                                  payload: header + payload[offset..<(offset + length)])
    }

    func testFragmentsAreReassembledInAnyOrderAndBadOnesDropped() throws {
        let (ipv4, _) = stack()
        let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0) }
        let icmp = ICMPEcho(type: ICMPEcho.request, identifier: 1, sequence: 1, data: data).emit()
        let pieces = [(0, 1480, true), (1480, 1480, true), (2960, icmp.count - 2960, false)]
        XCTAssertEqual(ipv4.handle(fragment(ipv4, icmp, offset: pieces[2].0, length: pieces[2].1, more: false), now: 0), [])
        XCTAssertEqual(ipv4.handle(fragment(ipv4, icmp, offset: pieces[0].0, length: pieces[0].1, more: true), now: 1), [])
        let answers = ipv4.handle(fragment(ipv4, icmp, offset: pieces[1].0, length: pieces[1].1, more: true), now: 2)
        let reply = try XCTUnwrap(answers.first.flatMap { EthernetFrame(parsing: $0) }.flatMap { IPv4Packet(parsing: $0.payload) })
        XCTAssertEqual(ICMPEcho(parsing: reply.payload)?.data, data, "the whole datagram, answered")
        // Overlapping pieces drop the datagram; so does a piece beyond the end.
        _ = ipv4.handle(fragment(ipv4, icmp, offset: 0, length: 1480, more: true, id: 78), now: 3)
        _ = ipv4.handle(fragment(ipv4, icmp, offset: 1472, length: 1480, more: true, id: 78), now: 4)
        XCTAssertEqual(ipv4.handle(fragment(ipv4, icmp, offset: 2960, length: icmp.count - 2960, more: false, id: 78), now: 5), [])
        XCTAssertFalse(ipv4.reassembly.datagrams.contains { $0.key.identification == 78 && $0.pieces.count > 1 }, "the overlapping datagram is gone")
        // An incomplete datagram is forgotten after 30 s.
        _ = ipv4.handle(fragment(ipv4, icmp, offset: 0, length: 1480, more: true, id: 79), now: 10)
        _ = ipv4.handle(fragment(ipv4, icmp, offset: 1480, length: 1480, more: true, id: 79), now: 10 + 31_000_000)
        XCTAssertEqual(ipv4.handle(fragment(ipv4, icmp, offset: 2960, length: icmp.count - 2960, more: false, id: 79), now: 10 + 31_000_001), [])
        // Random fragment streams never trap, and at most eight datagrams wait at once.
        var generator = SplitMix(seed: 9)
        for _ in 0..<5000 {
            let offset = Int(generator.next() % 375) * 8
            let length = min(Int(generator.next() % 1500), icmp.count - offset)
            _ = ipv4.handle(fragment(ipv4, icmp, offset: offset, length: max(length, 0), more: generator.next() % 2 == 0,
                                     id: UInt16(generator.next() % 20)), now: 100)
            XCTAssertLessThanOrEqual(ipv4.reassembly.datagrams.count, ReassemblyLimits.maximumDatagrams)
        }
    }

    func testInitialSequenceNumbersAreKeyedPerConnectionAndMoveWithTheClock() {
        let (ipv4, _) = stack()
        let first = ipv4.initialSequence(localPort: 80, remote: .v4(peerIP), remotePort: 5000, now: 0)
        XCTAssertNotEqual(first, ipv4.initialSequence(localPort: 80, remote: .v4(peerIP), remotePort: 5001, now: 0), "another connection: unrelated")
        XCTAssertEqual(ipv4.initialSequence(localPort: 80, remote: .v4(peerIP), remotePort: 5000, now: 1_000_000) &- first, 250_000,
                       "the same connection a second later: 250,000 further on (4 us per step)")
        let otherKey = IPInterface(network: FakeNetwork(), clock: FakeClock(), random: SeededRandom(seed: 2), address: "10.0.2.15/24", gateway: "")
        XCTAssertNotEqual(first, otherKey.initialSequence(localPort: 80, remote: .v4(peerIP), remotePort: 5000, now: 0), "another secret")
    }

    func testConnectResolvesSendsASynAndCompletesTheHandshake() throws {
        let (ipv4, network) = stack()
        network.sent.removeAll()
        let peer = peerIP, peerMAC = peerMAC, ourMAC = network.macAddress
        var peerSegments: [TCPSegment] = []
        network.respond = { frame in
            guard let ethernet = EthernetFrame(parsing: frame) else { return [] }
            if let arp = ARPPacket(parsing: ethernet.payload), arp.targetIP == peer {
                return [EthernetFrame.emit(destination: ourMAC, source: peerMAC, etherType: EthernetFrame.arp,
                                           payload: ARPPacket(operation: ARPPacket.reply, senderMAC: peerMAC, senderIP: peer,
                                                              targetMAC: ourMAC, targetIP: arp.senderIP).emit())]
            }
            guard let ip = IPv4Packet(parsing: ethernet.payload),
                  let segment = TCPSegment(parsing: ip.payload, source: ip.source, destination: ip.destination) else { return [] }
            peerSegments.append(segment)
            guard segment.has(TCPSegment.syn) else { return [] }
            let answer = TCPSegment(sourcePort: 443, destinationPort: segment.sourcePort, sequence: 700, acknowledgment: segment.sequence &+ 1,
                                    flags: TCPSegment.syn | TCPSegment.ack, window: 1000,
                                    options: TCPOptions(maximumSegmentSize: 1200, windowScale: 2, sackPermitted: true))
            let packet = IPv4Packet.emit(source: peer, destination: ip.source, protocolNumber: IPv4Packet.tcp,
                                         payload: answer.emit(source: peer, destination: ip.source), identification: 5)
            return [EthernetFrame.emit(destination: ourMAC, source: peerMAC, etherType: EthernetFrame.ipv4, payload: packet)]
        }
        let connection = try ipv4.open(to: .v4(peerIP), port: 443)
        XCTAssertEqual(connection.state, .synSent, "the SYN waits for ARP: nothing waits in the call")
        XCTAssertTrue(ipv4.run(for: 5_000_000_000) { connection.state == .established })
        XCTAssertGreaterThanOrEqual(connection.localPort, 49152, "an ephemeral port")
        XCTAssertEqual(connection.sendWindow, 1000, "a SYN's window is never scaled")
        XCTAssertEqual(connection.sendScale, 2, "later ones are")
        XCTAssertEqual(peerSegments.map(\.flags), [TCPSegment.syn, TCPSegment.ack])
        XCTAssertEqual(peerSegments.last?.acknowledgment, 701)
        let copied = Counters.bytesCopied, sent = Counters.framesSent
        XCTAssertEqual(try ipv4.offer(connection, Array("hello".utf8)[...]), 5)
        XCTAssertEqual(peerSegments.last.map { Array($0.data) }, Array("hello".utf8))
        XCTAssertEqual(Counters.bytesCopied - copied, 5, "the bytes the job handed the stack are counted for run --timings")
        XCTAssertEqual(Counters.framesSent, sent, "frames are counted by the device drivers, not by this fake")
        XCTAssertThrowsError(try ipv4.open(to: .v4(peerIP), port: 0)) { XCTAssertEqual($0 as? NetworkError, .refused) }
    }

    func tcpFrame(_ ipv4: IPInterface<FakeNetwork, FakeClock>, _ segment: TCPSegment) -> [UInt8] {
        let packet = IPv4Packet.emit(source: peerIP, destination: ipv4.address, protocolNumber: IPv4Packet.tcp,
                                     payload: segment.emit(source: peerIP, destination: ipv4.address), identification: 3)
        return EthernetFrame.emit(destination: ipv4.network.macAddress, source: peerMAC, etherType: EthernetFrame.ipv4, payload: packet)
    }

    func tcpReplies(_ frames: [[UInt8]]) -> [TCPSegment] {
        frames.compactMap { EthernetFrame(parsing: $0).flatMap { IPv4Packet(parsing: $0.payload) } }
            .compactMap { TCPSegment(parsing: $0.payload, source: $0.source, destination: $0.destination) }
    }

    /// A server that closes first keeps each connection in TIME-WAIT; those
    /// must neither fill the accept backlog nor grow without bound.
    func testConnectionsClosedByTheServerNeverFillTheBacklog() throws {
        let (ipv4, network) = stack()
        _ = try ipv4.listenTCP(port: 80)
        for index in 0..<200 {
            let port = UInt16(20000 + index)
            let segment = { (flags: UInt8, sequence: UInt32, acknowledgment: UInt32) in
                TCPSegment(sourcePort: port, destinationPort: 80, sequence: sequence, acknowledgment: acknowledgment, flags: flags, window: 8192)
            }
            let synAck = try XCTUnwrap(tcpReplies(ipv4.handle(tcpFrame(ipv4, segment(TCPSegment.syn, 1000, 0)), now: 0)).first,
                                       "connection \(index) answered")
            XCTAssertEqual(synAck.flags, TCPSegment.syn | TCPSegment.ack)
            _ = ipv4.handle(tcpFrame(ipv4, segment(TCPSegment.ack, 1001, synAck.sequence &+ 1)), now: 0)
            let connection = try XCTUnwrap(ipv4.accept(on: 80))
            network.sent.removeAll()
            network.respond = { frame in
                // The peer acknowledges our FIN and sends its own.
                guard let fin = self.tcpReplies([frame]).first, fin.has(TCPSegment.fin) else { return [] }
                return [self.tcpFrame(ipv4, segment(TCPSegment.fin | TCPSegment.ack, 1001, fin.sequence &+ 1))]
            }
            ipv4.close(connection)
            ipv4.run(for: 1_000_000_000) { connection.state == .timeWait }
            ipv4.release(connection)
            network.respond = nil
            XCTAssertEqual(connection.state, .timeWait)
        }
        XCTAssertLessThanOrEqual(ipv4.tcpConnections.count, IPInterface<FakeNetwork, FakeClock>.timeWaitLimit + 1)
    }
}


extension IPStackTests {
    /// A device that completes checksums and cuts segments (virtio-net over
    /// a TAP): the stack hands it packets of several full segments, each TCP
    /// checksum field holding the pseudo-header's sum; virtio-net's header,
    /// read from each frame, tells the device where the checksum goes and how
    /// to cut. Done here as the device does it (NEEDS_CSUM: the ones'
    /// complement of everything from csum_start on, the field included), every
    /// piece must be a valid segment, and the pieces must carry the data in order.
    func testWithOffloadsTheDeviceGetsPacketsItCutsAndChecksums() throws {
        let (ipv4, network) = stack(offloads: NetworkOffloads(tcpChecksums: true, tcpSegmentation: 32 * 1024))
        _ = try ipv4.listenTCP(port: 80)
        let syn = TCPSegment(sourcePort: 20000, destinationPort: 80, sequence: 1000, acknowledgment: 0, flags: TCPSegment.syn,
                             window: 65535, options: TCPOptions(maximumSegmentSize: 1460, windowScale: 7))
        let synAck = try XCTUnwrap(completedReplies(ipv4.handle(tcpFrame(ipv4, syn), now: 0)).first)
        _ = ipv4.handle(tcpFrame(ipv4, TCPSegment(sourcePort: 20000, destinationPort: 80, sequence: 1001, acknowledgment: synAck.sequence &+ 1,
                                                  flags: TCPSegment.ack, window: 65535)), now: 0)
        let connection = try XCTUnwrap(ipv4.accept(on: 80))
        network.sent.removeAll()
        let data = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        XCTAssertEqual(try ipv4.offer(connection, data[...]), data.count)

        var carried: [UInt8] = []
        var largest = 0
        for frame in network.sent {
            let header = VirtioNetHeader(for: frame)
            XCTAssertEqual(header.flags, VirtioNetHeader.needsChecksum)
            XCTAssertEqual(header.checksumStart, 34)
            XCTAssertEqual(header.checksumOffset, 16)
            largest = max(largest, frame.count)
            let pieces = frame.count > 1514 ? cut(frame, header) : [frame]
            if frame.count > 1514 {
                XCTAssertEqual(header.segmentationType, VirtioNetHeader.tcpv4)
                XCTAssertEqual(header.segmentSize, 1460, "the MTU's segments: 1500 less 40 bytes of headers")
                XCTAssertEqual(header.headerLength, 54)
                XCTAssertEqual((frame.count - 54) % 1460, 0, "whole segments, the tail aside")
            }
            for piece in pieces {
                XCTAssertLessThanOrEqual(piece.count, 1514)
                let completed = completeChecksum(piece, header)
                let ip = try XCTUnwrap(IPv4Packet(parsing: try XCTUnwrap(EthernetFrame(parsing: completed)).payload))
                let segment = try XCTUnwrap(TCPSegment(parsing: ip.payload, source: ip.source, destination: ip.destination),
                                            "a valid segment, its checksum right, once the device completes it")
                XCTAssertEqual(segment.sequence, synAck.sequence &+ 1 &+ UInt32(carried.count))
                carried += segment.data
            }
        }
        XCTAssertEqual(largest, 14 + 20 + 20 + 14_600, "the initial congestion window went as one packet")
        XCTAssertEqual(carried, Array(data.prefix(carried.count)))
        XCTAssertEqual(carried.count, 14_600)
    }

    /// Without segmentation, or for a peer whose segments are smaller than
    /// the MTU's, every packet fits the MTU; checksums stay the stack's own
    /// unless the device completes them.
    func testPacketsFitTheMTUUnlessTheDeviceCutsAtTheSegmentSize() throws {
        for (offloads, mss) in [(NetworkOffloads(), UInt16(1460)), (NetworkOffloads(tcpChecksums: true, tcpSegmentation: 32 * 1024), 1400)] {
            let (ipv4, network) = stack(offloads: offloads)
            _ = try ipv4.listenTCP(port: 80)
            let syn = TCPSegment(sourcePort: 20000, destinationPort: 80, sequence: 1000, acknowledgment: 0, flags: TCPSegment.syn,
                                 window: 65535, options: TCPOptions(maximumSegmentSize: mss, windowScale: 7))
            let synAck = try XCTUnwrap(completedReplies(ipv4.handle(tcpFrame(ipv4, syn), now: 0)).first)
            _ = ipv4.handle(tcpFrame(ipv4, TCPSegment(sourcePort: 20000, destinationPort: 80, sequence: 1001, acknowledgment: synAck.sequence &+ 1,
                                                      flags: TCPSegment.ack, window: 65535)), now: 0)
            let connection = try XCTUnwrap(ipv4.accept(on: 80))
            network.sent.removeAll()
            XCTAssertEqual(try ipv4.offer(connection, [UInt8](repeating: 9, count: 20_000)[...]), 20_000)
            XCTAssertEqual(Set(network.sent.map(\.count)), [14 + 20 + 20 + Int(mss)], "MSS \(mss), \(offloads)")
            XCTAssertEqual(tcpReplies(network.sent).count, offloads.tcpChecksums ? 0 : network.sent.count, "checksums complete as sent, or not")
            XCTAssertEqual(completedReplies(network.sent).count, network.sent.count, "valid once the device completes them")
        }
    }

    /// virtio-net's header read from frames of each kind: IPv6 TCP (its
    /// header straight after IPv6's) with and without segmentation, IPv4 with
    /// options, and nothing for UDP, ARP or a runt.
    func testVirtioNetHeaderIsReadFromTheFrame() throws {
        let mac: MACAddress = [2, 0, 0, 0, 0, 2]
        let a = try XCTUnwrap(IPv6Address("2001:db8::1")), b = try XCTUnwrap(IPv6Address("2001:db8::2"))
        let options = TCPOptions(timestamp: TCPTimestamp(value: 1, echo: 2))
        func ipv6TCP(_ count: Int) -> [UInt8] {
            let segment = TCPSegment(sourcePort: 1, destinationPort: 2, sequence: 3, acknowledgment: 4, flags: TCPSegment.ack, window: 5,
                                     options: options, data: [UInt8](repeating: 1, count: count)[...])
            let packet = IPv6Packet.emit(source: a, destination: b, nextHeader: IPv4Packet.tcp,
                                         payload: segment.emit(between: .v6(source: a, destination: b)))
            return EthernetFrame.emit(destination: mac, source: mac, etherType: EthernetFrame.ipv6, payload: packet)
        }
        var small = VirtioNetHeader()
        small.flags = VirtioNetHeader.needsChecksum
        small.checksumStart = 54
        small.checksumOffset = 16
        XCTAssertEqual(VirtioNetHeader(for: ipv6TCP(100)), small)
        var large = small
        large.segmentationType = VirtioNetHeader.tcpv6
        large.headerLength = 54 + 32
        large.segmentSize = 1500 - 40 - 32
        XCTAssertEqual(VirtioNetHeader(for: ipv6TCP(5000)), large)

        var withOptions = EthernetFrame.emit(destination: mac, source: mac, etherType: EthernetFrame.ipv4,
                                             payload: IPv4Packet.emit(source: 1, destination: 2, protocolNumber: IPv4Packet.tcp,
                                                                      payload: [UInt8](repeating: 0, count: 40), identification: 1))
        withOptions[14] = 0x46   // a 24-byte IPv4 header
        XCTAssertEqual(VirtioNetHeader(for: withOptions).checksumStart, 38)
        let udp = EthernetFrame.emit(destination: mac, source: mac, etherType: EthernetFrame.ipv4,
                                     payload: IPv4Packet.emit(source: 1, destination: 2, protocolNumber: IPv4Packet.udp,
                                                              payload: [UInt8](repeating: 0, count: 40), identification: 1))
        XCTAssertEqual(VirtioNetHeader(for: udp), VirtioNetHeader())
        XCTAssertEqual(VirtioNetHeader(for: EthernetFrame.emit(destination: mac, source: mac, etherType: EthernetFrame.arp,
                                                               payload: [UInt8](repeating: 0, count: 28))), VirtioNetHeader())
        XCTAssertEqual(VirtioNetHeader(for: Array(ipv6TCP(0).prefix(60))), VirtioNetHeader(), "cut short before TCP's header ends")

        // Written and read back as a receive buffer holds it (little-endian; the
        // buffer count only in a 12-byte header), and a partial checksum completed.
        var bytes = [UInt8](repeating: 0xEE, count: 12)
        large.bufferCount = 1
        bytes.withUnsafeMutableBytes { large.write(to: $0.baseAddress!, size: 10) }
        XCTAssertEqual(bytes[2...9], [86, 0, 0x94, 0x05, 54, 0, 16, 0])
        XCTAssertEqual(bytes.withUnsafeBytes { VirtioNetHeader(reading: $0.baseAddress!, size: 10) }, large)
        bytes[10] = 33
        bytes[11] = 0
        var merged = large
        merged.bufferCount = 33
        XCTAssertEqual(bytes.withUnsafeBytes { VirtioNetHeader(reading: $0.baseAddress!, size: 12) }, merged)
        var partial = ipv6TCP(5000)
        let sum = InternetChecksum.fold(AddressPair.v6(source: a, destination: b).pseudoHeaderSum(protocolNumber: IPv4Packet.tcp, length: 5032))
        partial[54 + 16] = UInt8(sum >> 8)
        partial[54 + 17] = UInt8(truncatingIfNeeded: sum)
        XCTAssertNotEqual(partial, ipv6TCP(5000))
        large.completeChecksum(&partial)
        XCTAssertEqual(partial, ipv6TCP(5000), "the checksum the stack would have written")
        var short = Array(partial.prefix(60))
        large.completeChecksum(&short)
        XCTAssertEqual(short, Array(partial.prefix(60)), "a range outside the frame is left alone")
    }

    /// The segments of `frames`, their checksums completed where the device would.
    func completedReplies(_ frames: [[UInt8]]) -> [TCPSegment] {
        tcpReplies(frames.map { frame in
            let header = VirtioNetHeader(for: frame)
            return header.flags == VirtioNetHeader.needsChecksum && tcpReplies([frame]).isEmpty ? completeChecksum(frame, header) : frame
        })
    }

    /// What a device does with NEEDS_CSUM (the driver does the same for a
    /// frame the host left partial).
    func completeChecksum(_ frame: [UInt8], _ header: VirtioNetHeader) -> [UInt8] {
        var frame = frame
        header.completeChecksum(&frame)
        return frame
    }

    /// What a device does with TCPV4 segmentation: the headers copied before
    /// each `segmentSize` bytes of payload, IPv4's length, identification and
    /// header checksum and TCP's sequence number moved on, FIN and PSH on the
    /// last piece only, and the pseudo-header's sum remade for each length.
    func cut(_ frame: [UInt8], _ header: VirtioNetHeader) -> [[UInt8]] {
        let headers = Int(header.headerLength), size = Int(header.segmentSize), tcp = Int(header.checksumStart)
        var pieces: [[UInt8]] = []
        var offset = headers
        while offset < frame.count {
            let count = min(size, frame.count - offset)
            var piece = Array(frame[..<headers]) + frame[offset..<(offset + count)]
            let ipLength = piece.count - 14
            piece[16] = UInt8(ipLength >> 8); piece[17] = UInt8(truncatingIfNeeded: ipLength)
            piece[19] &+= UInt8(truncatingIfNeeded: pieces.count)
            piece[24] = 0; piece[25] = 0
            let ipSum = InternetChecksum.compute(piece[14..<tcp])
            piece[24] = UInt8(ipSum >> 8); piece[25] = UInt8(truncatingIfNeeded: ipSum)
            let sequence = (UInt32(piece[tcp + 4]) << 24 | UInt32(piece[tcp + 5]) << 16 | UInt32(piece[tcp + 6]) << 8 | UInt32(piece[tcp + 7]))
                &+ UInt32(offset - headers)
            for index in 0..<4 { piece[tcp + 4 + index] = UInt8(truncatingIfNeeded: sequence >> UInt32(24 - 8 * index)) }
            if offset + count < frame.count { piece[tcp + 13] &= ~(TCPSegment.fin | TCPSegment.psh) }
            let source = UInt32(piece[26]) << 24 | UInt32(piece[27]) << 16 | UInt32(piece[28]) << 8 | UInt32(piece[29])
            let destination = UInt32(piece[30]) << 24 | UInt32(piece[31]) << 16 | UInt32(piece[32]) << 8 | UInt32(piece[33])
            let pseudo = InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                                                 protocolNumber: IPv4Packet.tcp, length: piece.count - tcp))
            piece[tcp + 16] = UInt8(pseudo >> 8); piece[tcp + 17] = UInt8(truncatingIfNeeded: pseudo)
            pieces.append(piece)
            offset += count
        }
        return pieces
    }
}

/// A fake network whose frames still to deliver can be seen.
protocol FakeWire: NetworkInterface {
    var incoming: [[UInt8]] { get }
}

extension IPStackTests.FakeNetwork: FakeWire {}
extension DHCPTests.DHCPServerNetwork: FakeWire {}

extension IPInterface where Network: FakeWire, C == FakeClock {
    /// What the stack's "net" task does, with the fake clock jumping to each
    /// deadline: frames in and answers out, then the timers, until
    /// `nanoseconds` have passed or `done()` holds; returns whether it held.
    @discardableResult
    func run(for nanoseconds: UInt64, until done: () -> Bool = { false }) -> Bool {
        let end = clock.count + clock.ticks(forNanoseconds: nanoseconds)
        while true {
            while let frame = network.receive() {
                for answer in handle(frame, now: clock.count) { try? network.transmit(answer) }
            }
            for frame in poll(now: clock.count) { try? network.transmit(frame) }
            if done() { return true }
            if clock.count >= end { return false }
            if network.incoming.isEmpty {
                let next = nextDeadline.map { max($0, clock.count + 1) } ?? end
                clock.count = min(next, end)
            }
        }
    }
}
