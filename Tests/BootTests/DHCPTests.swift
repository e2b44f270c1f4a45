@testable import Boot
import XCTest

/// The DHCP client against a server simulated on a fake network: the four
/// messages, what the ACK configures, renewal at half the lease, and
/// answers meant for another client ignored.
final class DHCPTests: XCTestCase {
    /// Answers DISCOVER with an OFFER and REQUEST with an ACK, as QEMU's user network does.
    final class DHCPServerNetwork: NetworkInterface {
        let macAddress: MACAddress = [0x52, 0x54, 0, 0x12, 0x34, 0x56]
        let events = WaitQueue()
        var incoming: [[UInt8]] = []
        var requests: [DHCPMessage] = []

        func transmit(_ frame: [UInt8]) throws(NetworkError) {
            guard let ethernet = EthernetFrame(parsing: frame), let ip = IPv4Packet(parsing: ethernet.payload),
                  let udp = UDPDatagram(parsing: ip.payload, source: ip.source, destination: ip.destination),
                  udp.destinationPort == DHCPMessage.serverPort, let message = DHCPMessage(parsing: udp.data) else { return }
            requests.append(message)
            var answer = DHCPMessage(type: message.type == DHCPMessage.discover ? DHCPMessage.offer : DHCPMessage.acknowledge,
                                     transaction: message.transaction, hardwareAddress: message.hardwareAddress)
            answer.operation = 2
            answer.yourAddress = IPv4Text.address("10.0.2.15")!
            answer.server = IPv4Text.address("10.0.2.2")!
            answer.subnetMask = 0xFFFF_FF00
            answer.router = IPv4Text.address("10.0.2.2")!
            answer.leaseSeconds = 86400
            answer.nameServers = [IPv4Text.address("10.0.2.3")!, IPv4Text.address("192.0.2.53")!]
            let server = IPv4Text.address("10.0.2.2")!
            let reply = UDPDatagram(sourcePort: DHCPMessage.serverPort, destinationPort: DHCPMessage.clientPort, data: answer.emitWithOptions())
            let packet = IPv4Packet.emit(source: server, destination: 0xFFFF_FFFF, protocolNumber: IPv4Packet.udp,
                                         payload: reply.emit(source: server, destination: 0xFFFF_FFFF), identification: 1)
            incoming.append(EthernetFrame.emit(destination: MACAddress.broadcast, source: [2, 0, 0, 0, 0, 2],
                                               etherType: EthernetFrame.ipv4, payload: packet))
        }
        func receive() -> [UInt8]? { incoming.isEmpty ? nil : incoming.removeFirst() }
    }

    func testTheLeaseConfiguresTheStack() {
        let network = DHCPServerNetwork()
        let clock = FakeClock()
        let ipv4 = IPInterface(network: network, clock: clock, random: SeededRandom(), address: "dhcp", gateway: "")
        XCTAssertNil(ipv4.ipv4, "no address until the lease")
        XCTAssertTrue(ipv4.run(for: 1_000_000) { ipv4.dhcpSettled })
        XCTAssertFalse(ipv4.dhcpFailed)
        XCTAssertEqual(network.requests.map(\.type), [DHCPMessage.discover, DHCPMessage.request])
        XCTAssertEqual(network.requests.last?.requestedAddress, IPv4Text.address("10.0.2.15"))
        XCTAssertEqual(network.requests.last?.server, IPv4Text.address("10.0.2.2"))
        XCTAssertEqual(ipv4.address, IPv4Text.address("10.0.2.15"))
        XCTAssertEqual(ipv4.prefixLength, 24)
        XCTAssertEqual(ipv4.gateway, IPv4Text.address("10.0.2.2"))
        XCTAssertEqual(ipv4.ipv4?.dhcpServer, IPv4Text.address("10.0.2.2"))
        XCTAssertEqual(ipv4.nameServers(now: clock.ticks()).map(\.text), ["10.0.2.3", "192.0.2.53"], "option 6, in order")
        // Half the lease later, a renewal.
        ipv4.run(for: 43_200_000_000_000 + 1_000)
        XCTAssertEqual(network.requests.map(\.type).last, DHCPMessage.request)
        XCTAssertEqual(network.requests.last?.clientAddress, IPv4Text.address("10.0.2.15"))
        XCTAssertEqual(network.requests.count, 3)
    }

    func testNoServerMeansTheClientGivesUpAfterFourTries() {
        let network = IPStackTests.FakeNetwork()
        let clock = FakeClock()
        let ipv4 = IPInterface(network: network, clock: clock, random: SeededRandom(), address: "dhcp", gateway: "")
        XCTAssertTrue(ipv4.run(for: 60_000_000_000) { ipv4.dhcpSettled })
        XCTAssertTrue(ipv4.dhcpFailed)
        XCTAssertEqual(network.sent.count, 4, "four DISCOVERs")
        XCTAssertEqual(clock.count, 10_000_000, "after waiting 1, 2, 3 and 4 s")
    }

    func testAnswersForAnotherClientAreIgnored() {
        let stack = IPInterface(network: DHCPServerNetwork(), clock: FakeClock(), random: SeededRandom(), address: "dhcp", gateway: "")
        stack.dhcp = DHCPClient(transaction: 7)
        var foreign = DHCPMessage(type: DHCPMessage.offer, transaction: 7, hardwareAddress: [2, 9, 9, 9, 9, 9])
        foreign.operation = 2
        let reply = UDPDatagram(sourcePort: 67, destinationPort: 68, data: foreign.emitWithOptions())
        let packet = IPv4Packet.emit(source: 1, destination: 0xFFFF_FFFF, protocolNumber: IPv4Packet.udp,
                                     payload: reply.emit(source: 1, destination: 0xFFFF_FFFF), identification: 1)
        _ = stack.handle(EthernetFrame.emit(destination: MACAddress.broadcast, source: [2, 0, 0, 0, 0, 2],
                                            etherType: EthernetFrame.ipv4, payload: packet), now: 0)
        XCTAssertEqual(stack.dhcp?.isBound, false)
        if case .discovering = stack.dhcp?.phase {} else { XCTFail("an offer for another client's MAC is not taken") }
    }

    func testMessagesRoundTripAndTruncatedOnesAreRefused() {
        var message = DHCPMessage(type: DHCPMessage.request, transaction: 0x1234_5678, hardwareAddress: [1, 2, 3, 4, 5, 6])
        message.requestedAddress = 0x0A00_020F
        message.server = 0x0A00_0202
        let bytes = message.emit()
        XCTAssertEqual(DHCPMessage(parsing: bytes), message)
        for length in [0, 100, 239, 241, 242] { XCTAssertNil(DHCPMessage(parsing: Array(bytes.prefix(length))), "\(length) bytes") }
        var generator = SplitMix(seed: 11)
        for _ in 0..<5000 {
            var damaged = bytes
            damaged[240 + Int(generator.next() % UInt64(bytes.count - 240))] = UInt8(truncatingIfNeeded: generator.next())
            _ = DHCPMessage(parsing: damaged)
        }
    }
}

extension DHCPMessage {
    /// A server's answer: the client's fields plus the options a server sends.
    func emitWithOptions() -> [UInt8] {
        var bytes = emit()
        bytes.removeLast()   // the end option
        if let subnetMask { bytes += [1, 4]; appendBE32(&bytes, subnetMask) }
        if let router { bytes += [3, 4]; appendBE32(&bytes, router) }
        if let leaseSeconds { bytes += [51, 4]; appendBE32(&bytes, leaseSeconds) }
        if !nameServers.isEmpty {
            bytes += [6, UInt8(4 * nameServers.count)]
            for server in nameServers { appendBE32(&bytes, server) }
        }
        return bytes + [255]
    }
}
