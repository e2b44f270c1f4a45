@testable import Boot
import XCTest

/// IPv6's addresses and packet views on the host, against packets that
/// scapy (not our code) built: neighbour discovery, a router advertisement,
/// extension headers, and fuzzing.
final class IPv6Tests: XCTestCase {
    func testAddressesReadAndWriteAsRFC5952Says() throws {
        let cases = [("2001:db8::1", "2001:db8::1"), ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
                     ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
                     ("::", "::"), ("::1", "::1"), ("fe80::", "fe80::"), ("FE80::5054:FF:FE12:3456", "fe80::5054:ff:fe12:3456"),
                     ("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
        for (input, written) in cases {
            let address = try XCTUnwrap(IPv6Address(input), input)
            XCTAssertEqual(address.text, written, input)
            XCTAssertEqual(IPv6Address(written), address)
        }
        for bad in ["", ":", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "g::", "1:2:3:4:5:6:7::8:9", "::ffff:1.2.3.4", ":1::", "1::2:"] {
            XCTAssertNil(IPv6Address(bad), bad)
        }
        XCTAssertEqual(IPv6Address.prefixed("2001:db8::5/64")?.prefixLength, 64)
        XCTAssertNil(IPv6Address.prefixed("2001:db8::5/129"))
    }

    func testDerivedAddresses() {
        let mac: MACAddress = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
        let linkLocal = IPv6Address.linkLocal(mac: mac)
        XCTAssertEqual(linkLocal.text, "fe80::5054:ff:fe12:3456")
        XCTAssertTrue(linkLocal.isLinkLocal)
        XCTAssertEqual(linkLocal.solicitedNode.text, "ff02::1:ff12:3456")
        XCTAssertEqual(linkLocal.solicitedNode.multicastMAC, [0x33, 0x33, 0xFF, 0x12, 0x34, 0x56])
        XCTAssertTrue(IPv6Address("2001:db8:1::9")!.matches(IPv6Address("2001:db8:1::")!, length: 64))
        XCTAssertFalse(IPv6Address("2001:db8:2::9")!.matches(IPv6Address("2001:db8:1::")!, length: 48))
        XCTAssertEqual(IPv6Address("2001:db8::1")!.commonPrefixLength(with: IPv6Address("2001:db8::3")!), 126)
    }

    func testNeighborSolicitationFromScapy() throws {
        let frame = bytes("6000000000203afffe800000000000000000000000000001ff0200000000000000000001ff1234568700c27600000000fe80000000000000505400fffe1234560101020000000001")
        let packet = try XCTUnwrap(IPv6Packet(parsing: frame[...]))
        XCTAssertEqual(packet.nextHeader, IPv6Packet.icmpv6)
        XCTAssertEqual(packet.hopLimit, 255)
        let message = try XCTUnwrap(ICMPv6Message(parsing: packet.payload, source: packet.source, destination: packet.destination))
        let solicitation = try XCTUnwrap(NeighborMessage(parsing: message, hopLimit: packet.hopLimit))
        XCTAssertFalse(solicitation.isAdvertisement)
        XCTAssertEqual(solicitation.target.text, "fe80::5054:ff:fe12:3456")
        XCTAssertEqual(solicitation.options.sourceLinkLayer, [2, 0, 0, 0, 0, 1])
        // Emitted again, it is the same bytes, checksum and all.
        XCTAssertEqual(IPv6Packet.emit(source: packet.source, destination: packet.destination, nextHeader: IPv6Packet.icmpv6,
                                       payload: solicitation.message.emit(source: packet.source, destination: packet.destination), hopLimit: 255),
                       frame)
        XCTAssertNil(NeighborMessage(parsing: message, hopLimit: 254), "a hop limit below 255 came through a router")
    }

    func testRouterAdvertisementFromScapy() throws {
        let frame = bytes("6000000000403afffe800000000000000000000000000002ff02000000000000000000000000000186006bce000807080000000000000000010102000000000205010000000005dc030440c000015180000038400000000020010db8000100000000000000000000")
        let packet = try XCTUnwrap(IPv6Packet(parsing: frame[...]))
        let message = try XCTUnwrap(ICMPv6Message(parsing: packet.payload, source: packet.source, destination: packet.destination))
        let advertisement = try XCTUnwrap(RouterAdvertisement(parsing: message, source: packet.source, hopLimit: packet.hopLimit))
        XCTAssertEqual(advertisement.routerLifetime, 1800)
        XCTAssertEqual(advertisement.options.mtu, 1500)
        XCTAssertEqual(advertisement.options.sourceLinkLayer, [2, 0, 0, 0, 0, 2])
        XCTAssertEqual(advertisement.options.prefixes, [NDOptions.Prefix(prefix: IPv6Address("2001:db8:1::")!, length: 64, onLink: true,
                                                                        autonomous: true, validLifetime: 86400, preferredLifetime: 14400)])
    }

    func testExtensionHeadersAreWalkedAndUnknownOptionsReported() throws {
        let echo = bytes("60000000001d004020010db800000000000000000000000220010db80000000000000000000000013c000104000000003a000104000000008000e0600007000968656c6c6f")
        let packet = try XCTUnwrap(IPv6Packet(parsing: echo[...]))
        XCTAssertEqual(packet.nextHeader, IPv6Packet.icmpv6, "through hop-by-hop and destination options")
        XCTAssertNil(packet.problem)
        let message = try XCTUnwrap(ICMPv6Message(parsing: packet.payload, source: packet.source, destination: packet.destination))
        XCTAssertEqual(message.type, ICMPv6Message.echoRequest)
        XCTAssertEqual(Array(message.body[4...]), Array("hello".utf8))
        // A destination option of type 0x80 (high bits 10): discard and answer with a parameter problem pointing at it.
        let unknown = bytes("6000000000103c4020010db800000000000000000000000220010db80000000000000000000000013a008002787801008000244800000000")
        let refused = try XCTUnwrap(IPv6Packet(parsing: unknown[...]))
        XCTAssertEqual(refused.problem?.code, 2)
        XCTAssertEqual(refused.problem?.pointer, 42, "the option's type, 40 + 2 bytes in")
        // A hop-by-hop header anywhere but first is an unrecognised next header (code 1).
        var late = unknown
        late[40] = IPv6Packet.hopByHop
        late[42...47] = [1, 4, 0, 0, 0, 0]   // PadN: the destination options header itself is fine
        let misplaced = try XCTUnwrap(IPv6Packet(parsing: late[...]))
        XCTAssertEqual(misplaced.problem?.code, 1)
        XCTAssertEqual(misplaced.problem?.pointer, 40)
    }

    func testMalformedPacketsNeverTrap() {
        let seeds = [bytes("60000000001d004020010db800000000000000000000000220010db80000000000000000000000013c000104000000003a000104000000008000e0600007000968656c6c6f"),
                     bytes("6000000000403afffe800000000000000000000000000002ff02000000000000000000000000000186006bce000807080000000000000000010102000000000205010000000005dc030440c000015180000038400000000020010db8000100000000000000000000")]
        var generator = SplitMix(seed: 23)
        for round in 0..<30000 {
            var frame = seeds[round % 2]
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                frame[Int(generator.next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            let cut = Array(frame.prefix(Int(generator.next() % UInt64(frame.count + 1))))
            guard let packet = IPv6Packet(parsing: cut[...]) else { continue }
            _ = NDOptions(parsing: packet.payload)
            let message = ICMPv6Message(type: packet.payload.first ?? 0, body: Array(packet.payload.dropFirst(min(4, packet.payload.count))))
            _ = NeighborMessage(parsing: message, hopLimit: 255)
            _ = RouterAdvertisement(parsing: message, source: .linkLocal(mac: [2, 0, 0, 0, 0, 1]), hopLimit: 255)
        }
    }
}
