import XCTest
@testable import Boot

/// DNS messages, zone files and an authoritative server's answers, checked
/// against dnspython: it reads the same zone file, makes the queries, and
/// judges every answer's bytes.
final class DNSTests: XCTestCase {
    static let zoneText = ##"""
    $ORIGIN example.test.
    $TTL 1h
    @   IN SOA ns1 hostmaster (
            2026120701 ; serial
            2h 30m 2w 5m )
        IN NS ns1
        IN NS ns2.example.net.
        IN MX 10 mail
        IN TXT "v=spf1 -all" "a \"quoted\" word; not a comment" plain\032word
        IN CAA 0 issue "letsencrypt.org"
    ns1 IN A 192.0.2.1
        IN AAAA 2001:db8::1
    mail 300 IN A 192.0.2.25
    www IN CNAME web
    alias IN CNAME www      ; a chain: alias, www, web
    outside IN CNAME www.example.net.
    web IN A 192.0.2.10
        IN AAAA 2001:db8::10
    _http._tcp IN SRV 0 5 80 web
    *.wild 120 IN A 192.0.2.99
    deep.empty.nonterminal IN A 192.0.2.50
    sub IN NS ns.sub
    ns.sub IN A 192.0.2.53
    ptr IN PTR web.example.test.
    escaped\.dot IN A 192.0.2.77
    IN-lower in a 192.0.2.78
    generic IN TYPE65534 \# 4 0A000001
    big IN TXT "\##(String(repeating: "x", count: 250))" "\##(String(repeating: "y", count: 250))"
        IN TXT "\##(String(repeating: "z", count: 250))" "\##(String(repeating: "w", count: 250))"
        IN TXT "\##(String(repeating: "v", count: 250))" "\##(String(repeating: "u", count: 250))"
    """##

    static var zone: DNSZone {
        guard case .success(let zone) = DNSZone.parse(Array(zoneText.utf8), origin: nil) else { fatalError("the test zone does not parse") }
        return zone
    }

    func testZoneFileReadsAsDnspythonReadsIt() throws {
        let ours = DNSTests.zone.records.map { "\($0.name.text) \($0.ttl) \($0.type) \(hex($0.data.uncompressedBytes))" }
        let theirs = try HostReference.python("""
            import sys, dns.zone
            zone = dns.zone.from_text(sys.stdin.read(), origin=None, relativize=False, check_origin=False)
            for name, node in zone.nodes.items():
                for rdataset in node.rdatasets:
                    for rdata in rdataset:
                        print(name.to_text(), rdataset.ttl, rdataset.rdtype.value, rdata.to_wire().hex())
            """, lines: [DNSTests.zoneText], needs: "dns.zone")
        XCTAssertEqual(ours.sorted(), theirs.sorted())
        XCTAssertEqual(ours.count, 26)
    }

    func testZoneErrorsNameTheirLine() {
        let cases: [(String, Int, String)] = [
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nwww 60 IN A 300.1.1.1\n", 3, "is not an IPv4 address"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\n\n  ; comment\nwww 60 IN BOGUS x\n", 5, "no record type"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h (\n 1 2 3 4 5\n", 2, "never closed"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx 60 IN TXT \"open\n", 3, "does not end on its line"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nwww.other.test. 60 IN A 1.2.3.4\n", 3, "outside the zone"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nwww 60 IN CNAME a\nwww 60 IN A 1.2.3.4\n", 3, "a CNAME and other records"),
            ("$ORIGIN a.test.\nwww 60 IN A 1.2.3.4\n", 2, "no SOA"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx IN A 1.2.3.4\n", 3, "") /* takes the last TTL: no error */,
            ("@ 60 IN SOA ns h 1 2 3 4 5\n", 1, "needs an $ORIGIN"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\n$INCLUDE other\n", 3, "$INCLUDE is not supported"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx 60 IN MX 70000 mail\n", 3, "not a number from 0 to 65535"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx 60 CH A 1.2.3.4\n", 3, "only IN"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx..y 60 IN A 1.2.3.4\n", 3, "an empty label"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\n" + String(repeating: "a", count: 64) + " 60 IN A 1.2.3.4\n", 3, "longer than 63"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx 60 IN TYPE65534 \\# 3 0A00\n", 3, "needs 6 hex digits"),
            ("$ORIGIN a.test.\n@ 60 IN SOA ns h 1 2 3 4 5\nx 9999999999 IN A 1.2.3.4\n", 3, "too large"),
        ]
        for (text, line, reason) in cases {
            switch DNSZone.parse(Array(text.utf8), origin: nil) {
            case .success:
                XCTAssertEqual(reason, "", "\(text) parsed")
            case .failure(let error):
                XCTAssertEqual(error.line, line, "\(text): \(error.reason)")
                XCTAssertTrue(!reason.isEmpty && error.reason.contains(reason), "\(text): \(error.reason)")
            }
        }
        // A zone named by its file: relative names need no $ORIGIN line.
        guard case .success(let named) = DNSZone.parse(Array("@ 60 IN SOA ns h 1 2 3 4 5\nwww 60 A 1.2.3.4\n".utf8), origin: DNSName("b.test")) else {
            return XCTFail("a zone with its origin given does not parse")
        }
        XCTAssertEqual(named.records(of: DNSName("www.b.test")!).count, 1)
        // As a store holds it: NAME.zone is the zone NAME; errors said as FILE:LINE: reason.
        let text = Array("@ 60 IN SOA ns h 1 2 3 4 5\nwww 60 AAAA 1.2.3.4\n".utf8)
        guard case .failure(let error) = DNSZone.parse(fileNamed: "b.test.zone", text) else { return XCTFail("an A address in AAAA parsed") }
        XCTAssertEqual(error.located(in: "zones/b.test.zone"), "zones/b.test.zone:2: 1.2.3.4 is not an IPv6 address")
        guard case .success(let fromFile) = DNSZone.parse(fileNamed: "b.test.zone", Array("@ 60 IN SOA ns h 1 2 3 4 5\n".utf8)) else {
            return XCTFail("a zone named by its file does not parse")
        }
        XCTAssertEqual(fromFile.origin, DNSName("b.test"))
        guard case .failure(let unnamed) = DNSZone.parse(fileNamed: "b..test.zone", text) else { return XCTFail("an empty label named a zone") }
        XCTAssertEqual(unnamed.located(in: "b..test.zone"), "b..test.zone: 'b..test' is not a domain name: a zone file is named ZONE.zone (example.org.zone)")
    }

    /// dnspython's queries, answered by the zone, read back by dnspython.
    func answers(_ queries: [String], over transport: DNSAuthority.Transport = .udp,
                 from client: IPAddress = .v4(0x0A00_0202), transferTo: [IPAddress] = []) throws -> [String] {
        let wires = try HostReference.python("""
            import sys, dns.message
            for line in sys.stdin:
                name, rdtype, edns, payload = line.split()
                query = dns.message.make_query(name, rdtype, use_edns=(False if edns == "-" else int(edns)), payload=int(payload))
                query.id = 4660
                print(query.to_wire().hex())
            """, lines: queries, needs: "dns.message")
        let authority = DNSAuthority(zones: [DNSTests.zone], transferTo: transferTo)
        var responses: [String] = []
        for wire in wires {
            let replies = authority.answer(bytes(hex: wire), over: transport, from: client)
            responses.append(replies.map(hex).joined(separator: ","))
        }
        return try HostReference.python("""
            import sys, dns.message, dns.flags, dns.rcode
            def section(rrsets):
                return ";".join(rrset.to_text().replace("\\n", ";") for rrset in rrsets)
            for line in sys.stdin:
                out = []
                for wire in line.split(","):
                    m = dns.message.from_wire(bytes.fromhex(wire), one_rr_per_rrset=True)
                    assert m.id == 4660
                    out.append("|".join([dns.rcode.to_text(m.rcode()), dns.flags.to_text(m.flags), section(m.answer),
                                         section(m.authority), section(m.additional), "edns=%d/%d" % (m.edns, m.payload if m.edns >= 0 else 0)]))
                print(" // ".join(out))
            """, lines: responses, needs: "dns.message")
    }

    func testAnswersAsAnAuthoritativeServer() throws {
        let results = try answers([
            "web.example.test A - 0",
            "WEB.Example.TEST AAAA 0 1232",
            "alias.example.test A - 0",
            "nothing.example.test A - 0",
            "web.example.test MX - 0",
            "empty.nonterminal.example.test A - 0",
            "a.b.wild.example.test A - 0",
            "a.b.wild.example.test TXT - 0",
            "host.sub.example.test A - 0",
            "example.test MX - 0",
            "_http._tcp.example.test SRV - 0",
            "example.org A - 0",
            "web.example.test A 1 1232",
            "outside.example.test A - 0",
            "escaped\\.dot.example.test A - 0",
            "generic.example.test TYPE65534 - 0",
            "example.test CAA - 0",
        ])
        func check(_ index: Int, _ parts: [String], _ line: UInt = #line) {
            for part in parts { XCTAssertTrue(results[index].contains(part), "\(results[index]) lacks \(part)", line: line) }
        }
        check(0, ["NOERROR|QR AA RD|web.example.test. 3600 IN A 192.0.2.10||", "edns=-1/0"])
        // The question's spelling comes back; EDNS answered with this server's size.
        check(1, ["NOERROR|QR AA RD|WEB.Example.TEST. 3600 IN AAAA 2001:db8::10", "edns=0/1232"])
        check(2, ["alias.example.test. 3600 IN CNAME www.example.test.;www.example.test. 3600 IN CNAME web.example.test.;web.example.test. 3600 IN A 192.0.2.10"])
        // NXDOMAIN and NODATA carry the SOA with the lesser of its TTL and minimum (RFC 2308 3).
        check(3, ["NXDOMAIN|QR AA RD||example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026120701 7200 1800 1209600 300|"])
        check(4, ["NOERROR|QR AA RD||example.test. 300 IN SOA"])
        check(5, ["NOERROR|QR AA RD||example.test. 300 IN SOA"])
        check(6, ["NOERROR|QR AA RD|a.b.wild.example.test. 120 IN A 192.0.2.99|"])
        check(7, ["NOERROR|QR AA RD||example.test. 300 IN SOA"])
        // A referral: not authoritative, the cut's NS, and its glue.
        check(8, ["NOERROR|QR RD||sub.example.test. 3600 IN NS ns.sub.example.test.|ns.sub.example.test. 3600 IN A 192.0.2.53|"])
        check(9, ["example.test. 3600 IN MX 10 mail.example.test.|", "|mail.example.test. 300 IN A 192.0.2.25|"])
        check(10, ["_http._tcp.example.test. 3600 IN SRV 0 5 80 web.example.test.|", "web.example.test. 3600 IN A 192.0.2.10;web.example.test. 3600 IN AAAA 2001:db8::10"])
        check(11, ["REFUSED|QR RD|||"])
        check(12, ["BADVERS|QR RD|||", "edns=0/1232"])
        check(13, ["NOERROR|QR AA RD|outside.example.test. 3600 IN CNAME www.example.net.||"])
        check(14, ["escaped\\.dot.example.test. 3600 IN A 192.0.2.77"])
        check(15, ["generic.example.test. 3600 IN TYPE65534 \\# 4 0a000001"])
        check(16, ["example.test. 3600 IN CAA 0 issue \"letsencrypt.org\""])
    }

    func testALargeAnswerIsTruncatedOverUDPAndWholeOverTCP() throws {
        let udp = try answers(["big.example.test TXT - 0", "big.example.test TXT 0 4096", "big.example.test TXT 0 100"])
        for line in udp { XCTAssertTrue(line.hasPrefix("NOERROR|QR AA TC RD|||"), line) }
        let tcp = try answers(["big.example.test TXT - 0"], over: .tcp)
        XCTAssertTrue(tcp[0].hasPrefix("NOERROR|QR AA RD|big.example.test. 3600 IN TXT"), tcp[0])
        XCTAssertEqual(tcp[0].components(separatedBy: "IN TXT").count - 1, 3)
    }

    func testZoneTransfersGoOverTCPToWhomTheyAreAllowed() throws {
        let secondary = IPAddress.v4(0x0A00_0202)
        let transfer = try answers(["example.test AXFR - 0"], over: .tcp, from: secondary, transferTo: [secondary])[0]
        let sections = transfer.components(separatedBy: " // ").map { String($0.split(separator: "|", omittingEmptySubsequences: false)[2]) }
        // Every record once, and the SOA again at the end (TXT's strings may hold a ";": count the records by their class).
        XCTAssertEqual(sections.joined().components(separatedBy: " IN ").count - 1, DNSTests.zone.records.count + 1, transfer)
        XCTAssertTrue(sections.first!.hasPrefix("example.test. 3600 IN SOA") && sections.last!.contains("IN SOA ns1.example.test. hostmaster.example.test. 2026120701"), transfer)
        XCTAssertTrue(try answers(["example.test AXFR - 0"], over: .tcp, from: .v4(0x0A00_0203), transferTo: [secondary])[0].hasPrefix("REFUSED|"))
        XCTAssertTrue(try answers(["example.test AXFR - 0"], over: .udp, from: secondary, transferTo: [secondary])[0].hasPrefix("FORMERR|"))
        XCTAssertTrue(try answers(["web.example.test AXFR - 0"], over: .tcp, from: secondary, transferTo: [secondary])[0].hasPrefix("NOTAUTH|"))
    }

    /// Messages dnspython writes (compressed, with EDNS and every record
    /// type of the zone) read the same after a trip through this parser and writer.
    /// A zone of 3,000 records transfers in messages of at most 16 KiB, each
    /// filled until the next record would not fit, holding the SOA, every
    /// record in order, and the SOA again; dnspython reads them as one transfer.
    func testALargeZoneTransfersInFullMessagesOfAtMost16KiB() throws {
        var text = "$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 2h 30m 2w 5m\n  IN NS ns1\nns1 IN A 192.0.2.1\n"
        for index in 0..<3000 {
            text += "host-\(index) IN A 198.51.\(index / 256 % 256).\(index % 256)\n"
            if index % 7 == 0 { text += "  IN TXT \"record \(index) of a zone large enough to need several messages\"\n" }
        }
        guard case .success(let zone) = DNSZone.parse(Array(text.utf8), origin: nil) else { return XCTFail("the zone does not parse") }
        var query = DNSMessage(id: 9)
        query.questions = [DNSQuestion(name: zone.origin, type: DNSType.axfr)]
        let messages = DNSAuthority(zones: [zone], transferTo: [.v4(1)]).answer(query.encode(), over: .tcp, from: .v4(1))
        XCTAssertGreaterThan(messages.count, 3)
        var records: [DNSRecord] = []
        for (index, wire) in messages.enumerated() {
            XCTAssertLessThanOrEqual(wire.count, 16_384)
            guard case .success(let message) = DNSMessage.parse(wire) else { return XCTFail("message \(index) does not parse") }
            XCTAssertEqual(message.questions.count, index == 0 ? 1 : 0, "the question in the first message only")
            if index + 1 < messages.count, case .success(let next) = DNSMessage.parse(messages[index + 1]) {
                var fuller = message
                fuller.answers.append(next.answers[0])
                XCTAssertGreaterThan(fuller.encode(sections: true).count, 16_384, "message \(index) had room for the next record")
            }
            records += message.answers
        }
        XCTAssertEqual(records, [zone.soa] + zone.records.filter { $0.type != DNSType.soa } + [zone.soa])
        let verdict = try HostReference.python("""
            import sys, dns.message, dns.rdatatype
            count = 0
            for line in sys.stdin:
                m = dns.message.from_wire(bytes.fromhex(line.strip()), one_rr_per_rrset=True, xfr=True, origin=None)
                count += sum(len(rrset) for rrset in m.answer)
            print(count)
            """, lines: messages.map(hex), needs: "dns.message")
        XCTAssertEqual(verdict, ["\(records.count)"])
    }

    func testMessagesDnspythonWritesSurviveARoundTrip() throws {
        let wires = try HostReference.python("""
            import sys, dns.zone, dns.message, dns.rrset, dns.flags
            zone = dns.zone.from_text(sys.stdin.read(), origin=None, relativize=False, check_origin=False)
            for name, node in sorted(zone.nodes.items()):
                for rdataset in node.rdatasets:
                    response = dns.message.make_response(dns.message.make_query(name, rdataset.rdtype, use_edns=0, payload=4096))
                    response.answer.append(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)))
                    response.authority.append(dns.rrset.from_rdata_list(zone.origin, 60, list(zone.find_rdataset(zone.origin, "NS"))))
                    print(response.to_wire().hex())
            """, lines: [DNSTests.zoneText], needs: "dns.zone")
        XCTAssertGreaterThan(wires.count, 20)
        var again: [String] = []
        for wire in wires {
            guard case .success(let message) = DNSMessage.parse(bytes(hex: wire)) else { return XCTFail("does not parse: \(wire)") }
            let encoded = message.encode()
            guard case .success(let reread) = DNSMessage.parse(encoded) else { return XCTFail("our encoding does not parse: \(hex(encoded))") }
            XCTAssertEqual(reread, message)
            again.append(wire + " " + hex(encoded))
        }
        let verdicts = try HostReference.python("""
            import sys, dns.message
            for line in sys.stdin:
                theirs, ours = line.split()
                print("same" if dns.message.from_wire(bytes.fromhex(theirs)) == dns.message.from_wire(bytes.fromhex(ours)) else "differs " + ours)
            """, lines: again, needs: "dns.message")
        XCTAssertEqual(verdicts, Array(repeating: "same", count: wires.count))
    }

    /// Every byte of some queries and answers changed three ways, and every
    /// prefix: parsing fails or succeeds, the server answers or keeps quiet,
    /// and nothing traps; what it sends parses.
    func testMalformedMessagesNeverTrap() {
        let zone = DNSTests.zone
        let authority = DNSAuthority(zones: [zone], transferTo: [.v4(1)])
        var samples: [[UInt8]] = []
        for (name, type) in [("alias.example.test", DNSType.a), ("example.test", DNSType.mx), ("host.sub.example.test", DNSType.a)] {
            var query = DNSMessage(id: 7)
            query.questions = [DNSQuestion(name: DNSName(name)!, type: type)]
            query.edns = DNSMessage.EDNS(payloadSize: 1232)
            samples.append(query.encode())
            samples += authority.answer(query.encode(), over: .tcp, from: .v4(1))
        }
        var parsed = 0
        for sample in samples {
            for index in 0..<sample.count {
                for change: UInt8 in [0xFF, 0x01, 0xC0] {
                    var bent = sample
                    bent[index] ^= change
                    if case .success = DNSMessage.parse(bent) { parsed += 1 }
                    for reply in authority.answer(bent, over: .udp, from: .v4(1)) {
                        if case .failure(let error) = DNSMessage.parse(reply) { XCTFail("an answer that does not parse: \(error.text)") }
                    }
                }
                _ = DNSMessage.parse(Array(sample[..<index]))
                _ = authority.answer(Array(sample[..<index]), over: .udp, from: .v4(1))
            }
        }
        XCTAssertGreaterThan(parsed, 0)
        // A pointer to itself, and one forward: refused, not followed.
        let loop: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        XCTAssertEqual(DNSMessage.parse(loop), .failure(.malformed("a compression pointer that does not point back")))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let noise = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = authority.answer(noise, over: .udp, from: .v4(1))
        }
    }

    /// The zone file with every byte replaced by each of the characters
    /// the parser treats specially, and cut at every length: it parses or
    /// fails naming a line of the text, and never traps.
    func testZoneFilesBentEveryWayNeverTrap() {
        let text = Array(DNSTests.zoneText.utf8)
        let lines = text.filter { $0 == 10 }.count + 1
        let specials = Array(" \t\n();\"\\@$.*#0".utf8) + [0x00, 0xFF]
        var failures = 0
        func parse(_ bent: [UInt8]) {
            if case .failure(let error) = DNSZone.parse(bent, origin: nil) {
                failures += 1
                XCTAssertTrue((1...lines + 1).contains(error.line), "line \(error.line) of \(lines): \(error.reason)")
                XCTAssertFalse(error.reason.isEmpty)
            }
        }
        for index in text.indices {
            for special in specials where special != text[index] {
                var bent = text
                bent[index] = special
                parse(bent)
            }
            parse(Array(text[..<index]))
        }
        XCTAssertGreaterThan(failures, 0)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let noise = (0..<Int.random(in: 0...400, using: &generator)).map { _ in specials.randomElement(using: &generator)! }
            _ = DNSZone.parse(noise, origin: DNSName("noise.test"))
        }
    }

    func testNamesCompareWithoutCaseAndKeepTheirEscapes() {
        XCTAssertEqual(DNSName("WWW.Example.Test"), DNSName("www.example.test."))
        XCTAssertEqual(DNSName("a\\.b.test")?.labels.count, 2)
        XCTAssertEqual(DNSName("a\\.b.test")?.text, "a\\.b.test.")
        XCTAssertEqual(DNSName("\\000\\255x.test")?.text, "\\000\\255x.test.")
        XCTAssertNil(DNSName("a..b"))
        XCTAssertNil(DNSName(String(repeating: "abcdefgh.", count: 32)))
        XCTAssertTrue(DNSName("a.b.example.test")!.isSubdomain(of: DNSName("EXAMPLE.test")!))
        XCTAssertFalse(DNSName("example.test")!.isSubdomain(of: DNSName("a.example.test")!))
    }
}
