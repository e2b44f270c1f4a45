import XCTest
@testable import Boot

/// The stub resolver's pure part: its queries read by dnspython, answers
/// dnspython writes judged (believed only from the server asked, for the
/// query asked: RFC 5452's spoofs ignored), the cache's TTLs (RFC 2308 for
/// the negative ones), RFC 6724's examples of address order, and the name
/// server lists the boot key `--dns` takes.
final class DNSStubTests: XCTestCase {
    let server = NameServer(address: .v4(0x0A00_0203))
    let alias = DNSName("alias.example.test")!

    func testQueriesReadAsDnspythonReadsThem() throws {
        let withEDNS = DNSStubQuery(id: 0xBEEF, name: alias, type: DNSType.aaaa, server: server)
        let without = DNSStubQuery(id: 7, name: DNSName("Web.Example.Test")!, type: DNSType.a, server: server, edns: false)
        let read = try HostReference.python("""
            import sys, dns.message, dns.flags
            for line in sys.stdin:
                m = dns.message.from_wire(bytes.fromhex(line.strip()))
                print(m.id, dns.flags.to_text(m.flags), m.question[0].to_text(), m.edns, m.payload if m.edns >= 0 else 0)
            """, lines: [hex(withEDNS.bytes), hex(without.bytes)], needs: "dns.message")
        XCTAssertEqual(read, ["48879 RD alias.example.test. IN AAAA 0 1232", "7 RD Web.Example.Test. IN A -1 0"])
    }

    /// dnspython's answer to `query` for each case (see the script), as bytes.
    func answers(to query: DNSStubQuery, _ cases: [String]) throws -> [[UInt8]] {
        try HostReference.python("""
            import sys, dns.message, dns.rrset, dns.rcode, dns.flags
            soa = "ns1.example.test. hostmaster.example.test. 1 7200 1800 1209600 300"
            for line in sys.stdin:
                wire, case = line.split()
                query = dns.message.from_wire(bytes.fromhex(wire))
                r = dns.message.make_response(query)
                add = lambda section, name, ttl, rdtype, *data: section.append(dns.rrset.from_text(name, ttl, "IN", rdtype, *data))
                q = query.question[0]
                if case == "chain":                  # alias -> www -> web, which has two addresses
                    add(r.answer, "alias.example.test.", 600, "CNAME", "www.example.test.")
                    add(r.answer, "WWW.example.test.", 120, "CNAME", "web.example.test.")
                    add(r.answer, "web.example.test.", 3600, "A", "192.0.2.10", "192.0.2.11")
                    add(r.answer, "other.example.test.", 3600, "A", "192.0.2.66")   # not on the chain: not taken
                elif case == "six":
                    add(r.answer, "alias.example.test.", 300, "AAAA", "2001:db8::10")
                elif case == "wrong-id":
                    add(r.answer, "alias.example.test.", 300, "A", "192.0.2.66"); r.id ^= 1
                elif case == "wrong-name":
                    r.question[0] = dns.rrset.RRset(dns.name.from_text("evil.example.test."), q.rdclass, q.rdtype)
                    add(r.answer, "evil.example.test.", 300, "A", "192.0.2.66")
                elif case == "wrong-type":
                    r.question[0] = dns.rrset.RRset(q.name, q.rdclass, dns.rdatatype.MX)
                elif case == "not-a-response":
                    r.flags &= ~dns.flags.QR
                elif case == "truncated":
                    r.flags |= dns.flags.TC
                elif case in ("servfail", "refused", "formerr"):
                    r.set_rcode(dns.rcode.from_text(case.upper()))
                elif case == "nxdomain":
                    r.set_rcode(dns.rcode.NXDOMAIN); add(r.authority, "example.test.", 3600, "SOA", soa)
                elif case == "nodata":
                    add(r.authority, "example.test.", 60, "SOA", soa)
                elif case == "nodata-without-soa":
                    pass
                elif case == "alias-only":           # the server did not follow the chain out of its zone
                    add(r.answer, "alias.example.test.", 600, "CNAME", "www.example.net.")
                elif case == "loop":
                    add(r.answer, "alias.example.test.", 600, "CNAME", "loop.example.test.")
                    add(r.answer, "loop.example.test.", 600, "CNAME", "alias.example.test.")
                print(r.to_wire().hex())
            """, lines: cases.map { hex(query.bytes) + " " + $0 }, needs: "dns.message").map { bytes(hex: $0) }
    }

    func testAnswersAreBelievedOnlyForTheQueryAndFromTheServerAsked() throws {
        let query = DNSStubQuery(id: 4660, name: alias, type: DNSType.a, server: server)
        let cases = ["chain", "wrong-id", "wrong-name", "wrong-type", "not-a-response", "truncated", "servfail", "refused", "formerr",
                     "nxdomain", "nodata", "nodata-without-soa", "alias-only", "loop"]
        let replies = try answers(to: query, cases)
        let expected: [DNSStubAnswer] = [
            .addresses([.v4(0xC000_020A), .v4(0xC000_020B)], ttl: 120),
            .ignored, .ignored, .ignored, .ignored,
            .truncated, .serverFailed(rcode: 2), .serverFailed(rcode: 5), .noEDNS,
            .none(nameExists: false, ttl: 300), .none(nameExists: true, ttl: 60), .none(nameExists: true, ttl: nil),
            .alias(DNSName("www.example.net")!, ttl: 600), .none(nameExists: true, ttl: nil),
        ]
        for (index, reply) in replies.enumerated() {
            var answer = query.check(reply, from: server.address, port: 53)
            // dnspython writes an RRset's records in no fixed order: compare them as a set.
            if case .addresses(let addresses, let ttl) = answer { answer = .addresses(addresses.sorted { $0.text < $1.text }, ttl: ttl) }
            XCTAssertEqual(answer, expected[index], cases[index])
        }
        let believed = replies[0]
        XCTAssertEqual(query.check(believed, from: .v4(0x0A00_0204), port: 53), .ignored, "from another address")
        XCTAssertEqual(query.check(believed, from: server.address, port: 5353), .ignored, "from another port")
        let withoutEDNS = DNSStubQuery(id: 4660, name: alias, type: DNSType.a, server: server, edns: false)
        XCTAssertEqual(withoutEDNS.check(replies[8], from: server.address, port: 53), .serverFailed(rcode: 1),
                       "FORMERR to a query without EDNS: the server is broken")
        for cut in 0..<believed.count {
            XCTAssertEqual(query.check(Array(believed[0..<cut]), from: server.address, port: 53), .ignored, "cut at \(cut)")
        }
        let six = DNSStubQuery(id: 99, name: alias, type: DNSType.aaaa, server: server)
        XCTAssertEqual(six.check(try answers(to: six, ["six"])[0], from: server.address, port: 53),
                       .addresses([.v6(IPv6Address("2001:db8::10")!)], ttl: 300))
    }

    func testTheCacheKeepsAnswersForTheirTTLAndNoLonger() {
        var cache = DNSCache()
        let second: UInt64 = 1_000_000_000
        cache.insert(.addresses([.v4(1)]), for: alias, type: DNSType.a, ttl: 30, now: 5 * second)
        cache.insert(.none(nameExists: true), for: alias, type: DNSType.aaaa, ttl: 10, now: 5 * second)
        XCTAssertEqual(cache.lookup(DNSName("ALIAS.example.TEST")!, type: DNSType.a, now: 34 * second), .addresses([.v4(1)]), "names compare without case")
        XCTAssertNil(cache.lookup(alias, type: DNSType.a, now: 35 * second), "expired with its TTL")
        XCTAssertEqual(cache.lookup(alias, type: DNSType.aaaa, now: 14 * second), .none(nameExists: true))
        XCTAssertNil(cache.lookup(alias, type: DNSType.aaaa, now: 15 * second))
        cache.insert(.addresses([.v4(2)]), for: alias, type: DNSType.a, ttl: 0, now: 40 * second)
        XCTAssertNil(cache.lookup(alias, type: DNSType.a, now: 40 * second), "a TTL of 0 is not kept")
        cache.insert(.addresses([.v4(3)]), for: alias, type: DNSType.a, ttl: .max, now: 0)
        XCTAssertNotNil(cache.lookup(alias, type: DNSType.a, now: 86_399 * second))
        XCTAssertNil(cache.lookup(alias, type: DNSType.a, now: 86_400 * second), "no longer than a day")
        // Full, the entry that expires first goes.
        var full = DNSCache()
        for index in 0..<DNSCache.capacity {
            full.insert(.addresses([.v4(UInt32(index))]), for: DNSName("h\(index).test")!, type: DNSType.a, ttl: UInt32(100 + index), now: 0)
        }
        full.insert(.addresses([.v4(9)]), for: DNSName("new.test")!, type: DNSType.a, ttl: 50, now: 0)
        XCTAssertEqual(full.count, DNSCache.capacity)
        XCTAssertNil(full.lookup(DNSName("h0.test")!, type: DNSType.a, now: 0))
        XCTAssertNotNil(full.lookup(DNSName("h1.test")!, type: DNSType.a, now: 0))
        XCTAssertNotNil(full.lookup(DNSName("new.test")!, type: DNSType.a, now: 0))
    }

    /// RFC 6724 10.2's examples of destination address selection.
    func testAddressesAreOrderedAsRFC6724sExamples() {
        func sorted(_ destinations: [String], sources: [String]) -> [String] {
            AddressOrder.sorted(destinations.map { IPAddress($0)! }, sources: sources.map { IPAddress($0)! }).map(\.text)
        }
        // Prefer matching scope.
        XCTAssertEqual(sorted(["198.51.100.121", "2001:db8:1::1"], sources: ["2001:db8:1::2", "fe80::1", "169.254.13.78"]),
                       ["2001:db8:1::1", "198.51.100.121"])
        XCTAssertEqual(sorted(["2001:db8:1::1", "198.51.100.121"], sources: ["fe80::1", "198.51.100.117"]),
                       ["198.51.100.121", "2001:db8:1::1"])
        // Prefer higher precedence.
        XCTAssertEqual(sorted(["10.1.2.3", "2001:db8:1::1"], sources: ["2001:db8:1::2", "fe80::1", "10.1.2.4"]),
                       ["2001:db8:1::1", "10.1.2.3"])
        XCTAssertEqual(sorted(["2002:c633:6401::1", "2001:db8:1::1"], sources: ["2002:c633:6401::2", "2001:db8:1::2", "fe80::2"]),
                       ["2001:db8:1::1", "2002:c633:6401::1"])
        // Prefer smaller scope.
        XCTAssertEqual(sorted(["2001:db8:1::1", "fe80::1"], sources: ["2001:db8:1::2", "fe80::2"]), ["fe80::1", "2001:db8:1::1"])
        // Longest matching prefix.
        XCTAssertEqual(sorted(["2001:db8:3ffe::1", "2001:db8:1::1"], sources: ["2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"]),
                       ["2001:db8:1::1", "2001:db8:3ffe::1"])
        // Prefer matching label.
        XCTAssertEqual(sorted(["2001:db8:1::1", "2002:c633:6401::1"], sources: ["2002:c633:6401::2", "fe80::2"]),
                       ["2002:c633:6401::1", "2001:db8:1::1"])
        // Unusable: IPv6 without an IPv6 source goes last. QEMU's user network: IPv4 before its site-local IPv6.
        XCTAssertEqual(sorted(["2001:db8::1", "192.0.2.1"], sources: ["10.0.2.15"]), ["192.0.2.1", "2001:db8::1"])
        XCTAssertEqual(sorted(["2001:db8::1", "192.0.2.1"], sources: ["10.0.2.15", "fe80::5054:ff:fe12:3456", "fec0::5054:ff:fe12:3456"]),
                       ["192.0.2.1", "2001:db8::1"])
        // No sources known (the host's sockets): precedence alone, equals in the order given.
        XCTAssertEqual(sorted(["192.0.2.1", "2001:db8::1", "192.0.2.2"], sources: []), ["2001:db8::1", "192.0.2.1", "192.0.2.2"])
    }

    /// The boot key's lists, as the unikernel reads them; the tool's check (KeyFormat) is tested to agree in MirageEngineTests.
    func testNameServerListsParse() {
        XCTAssertEqual(NameServer.list("10.0.2.3"), [NameServer(address: .v4(0x0A00_0203))])
        XCTAssertEqual(NameServer.list("10.0.2.2:5353, [2001:db8::53]:54,2001:db8::1"),
                       [NameServer(address: .v4(0x0A00_0202), port: 5353), NameServer(address: IPAddress("2001:db8::53")!, port: 54),
                        NameServer(address: IPAddress("2001:db8::1")!)])
        XCTAssertEqual(NameServer.list(""), [])
        for bad in ["10.0.2", "10.0.2.2:0", "10.0.2.2:65536", "[10.0.2.2]:53", "[2001:db8::1", "2001:db8::1]:53", "host.test", "10.0.2.2:x"] {
            XCTAssertNil(NameServer.list(bad), bad)
        }
        XCTAssertEqual(NameServer(address: IPAddress("2001:db8::53")!, port: 5353).text, "[2001:db8::53]:5353")
        XCTAssertEqual(NameServer(address: .v4(0x0A00_0203)).text, "10.0.2.3")
    }

    /// The host target's sockets ask the host's own name servers, as resolv.conf(5) lists them.
    func testTheHostsNameServersAreReadFromResolvConf() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(getpid()).conf")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# a comment\nsearch example.test\nnameserver 10.255.255.53\nnameserver\t2001:db8::53\nnameserver fe80::1%eth0\noptions ndots:2\n"
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(HostSockets.nameServers(inResolvConf: file.path).map(\.text), ["10.255.255.53", "2001:db8::53"])
        XCTAssertEqual(HostSockets.nameServers(inResolvConf: "/nonexistent/resolv.conf"), [])
    }
}
