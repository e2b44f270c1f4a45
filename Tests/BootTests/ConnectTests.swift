@testable import Boot
import XCTest

/// The resolver's I/O, connecting by URL with Happy Eyeballs, and the HTTP
/// client, on the host under the task loop with a fake clock (1 tick = 1 µs)
/// over a scripted stack: its name servers answer with the zone of
/// DNSTests through DNSAuthority, after a delay, forged or not, as a test
/// says; its connections take a time and succeed or fail per address.
final class ConnectTests: XCTestCase {
    /// A `NetworkStack` whose peers are the test's closures.
    final class ScriptedStack: NetworkStack {
        final class Datagrams: UDPSocket {
            let port: UInt16
            let stack: ScriptedStack
            var queue: [ReceivedDatagram] = []
            let waiters = WaitQueue()
            var isOpen = true

            init(port: UInt16, stack: ScriptedStack) {
                self.port = port
                self.stack = stack
            }

            func receive(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> ReceivedDatagram {
                do throws(WaitError) {
                    try waiters.wait(until: { !self.queue.isEmpty || !self.isOpen }, deadline: Tasks.deadline(afterNanoseconds: nanoseconds))
                } catch {
                    throw NetworkError(error)
                }
                guard isOpen else { throw .closed }
                return queue.removeFirst()
            }

            func send(_ data: [UInt8], to peer: IPAddress, port peerPort: UInt16) throws(NetworkError) {
                stack.queries.append((port, NameServer(address: peer, port: peerPort), data))
                for (delay, datagram) in stack.nameServer(data, NameServer(address: peer, port: peerPort)) {
                    try! Tasks.spawn(name: "answer") {
                        try? Tasks.sleep(nanoseconds: delay)
                        guard self.isOpen else { return }
                        self.queue.append(datagram)
                        self.waiters.wakeAll()
                    }
                }
            }

            func close() {
                isOpen = false
                stack.boundPorts.removeAll { $0 == port }
                waiters.wakeAll()
            }
        }

        /// A connection whose peer answers everything written with `reply` (once), then closes.
        final class Stream: TLSStream {
            let localAddress: IPAddress = .v4(0x0A00_020F), localPort: UInt16 = 40000
            let remoteAddress: IPAddress, remotePort: UInt16
            let reply: ([UInt8]) -> [UInt8]?
            var written: [UInt8] = [], incoming: [UInt8] = [], peerClosed = false, aborted = false
            let retransmissions = 0
            let resumed = false, applicationProtocol: String? = nil

            init(to address: IPAddress, port: UInt16, reply: @escaping ([UInt8]) -> [UInt8]?) {
                remoteAddress = address
                remotePort = port
                self.reply = reply
            }

            func read(atMost count: Int, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [UInt8]? {
                guard !incoming.isEmpty else { return nil }
                let piece = Array(incoming.prefix(min(count, 1000)))     // in pieces, as segments come
                incoming.removeFirst(piece.count)
                return piece
            }

            func write(_ bytes: ArraySlice<UInt8>, waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
                written += bytes
                if let answer = reply(written) {
                    incoming += answer
                    peerClosed = true
                }
            }

            func close(waitingAtMost nanoseconds: UInt64) {}
            func abort() { aborted = true }
        }

        final class Listener: TCPListener {
            let port: UInt16 = 0
            func accept(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Stream { throw .closed }
            func close() {}
        }

        var ipv4: IPv4Configuration? = IPv4Configuration(address: 0x0A00_020F, prefixLength: 24, gateway: 0x0A00_0202, dhcpServer: nil)
        var ipv6Addresses: [IPv6Address] = []
        var nameServers = [NameServer(address: .v4(0x0A00_0203))]
        var resolver = DNSStubResolver(random: SeededRandom())
        /// Each query's source port, server and bytes, in order.
        var queries: [(port: UInt16, server: NameServer, bytes: [UInt8])] = []
        var boundPorts: [UInt16] = []
        /// The answers a datagram to a server gets, each after its delay (ns). By default the zone's, at once.
        var nameServer: ([UInt8], NameServer) -> [(UInt64, ReceivedDatagram)] = { _, _ in [] }
        /// How a connection to an address goes: after `delay` (ns; `.max`: never), connected, or `failure`.
        var connecting: (IPAddress) -> (delay: UInt64, failure: NetworkError?) = { _ in (0, nil) }
        /// What a connection's peer answers to what was written (nil: nothing yet).
        var peer: (IPAddress, UInt16, [UInt8]) -> [UInt8]? = { _, _, _ in nil }
        /// Each connection attempt: the address and when it started (ticks).
        var attempts: [(address: IPAddress, at: UInt64)] = []
        var streams: [Stream] = []

        init() {
            let authority = DNSAuthority(zones: [DNSTests.zone], transferTo: [])
            nameServer = { bytes, server in
                authority.answer(bytes, over: .udp, from: .v4(0x0A00_020F)).map {
                    (0, ReceivedDatagram(source: server.address, sourcePort: server.port, data: $0))
                }
            }
        }

        func listen(tcpPort port: UInt16) throws(NetworkError) -> Listener { Listener() }

        func connect(to peer: IPAddress, port: UInt16, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Stream {
            attempts.append((peer, Tasks.now))
            let plan = connecting(peer)
            do throws(WaitError) {
                try Tasks.sleep(nanoseconds: min(plan.delay, nanoseconds))
            } catch {
                throw .cancelled
            }
            if plan.delay > nanoseconds { throw .timedOut }
            if let failure = plan.failure { throw failure }
            let stream = Stream(to: peer, port: port) { written in self.peer(peer, port, written) }
            streams.append(stream)
            return stream
        }

        func bind(udpPort port: UInt16) throws(NetworkError) -> Datagrams {
            guard !boundPorts.contains(port) else { throw .portInUse }
            boundPorts.append(port)
            return Datagrams(port: port, stack: self)
        }

        func resolve(_ name: String, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [IPAddress] {
            try resolver.resolve(name, on: self, servers: nameServers, waitingAtMost: nanoseconds)
        }
    }

    /// A TLS device over a scripted stack: its connections are the stack's, the server name each was for kept.
    final class ScriptedTLS: TLSClients {
        let stack: ScriptedStack
        var serverNames: [String] = []
        var lastFailure: String?
        init(_ stack: ScriptedStack) { self.stack = stack }

        func connect(to address: IPAddress, port: UInt16, serverName: String,
                     waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> ScriptedStack.Stream {
            serverNames.append(serverName)
            return try stack.connect(to: address, port: port, waitingAtMost: nanoseconds)
        }
    }

    let second: UInt64 = 1_000_000_000

    /// Runs `body` as the main task under a fake clock; returns the clock.
    @discardableResult
    func run(_ body: @escaping (FakeClock) throws -> Void) throws -> FakeClock {
        let clock = FakeClock()
        var failure: Error?
        _ = Tasks.main {
            Tasks.attach(clock: clock)
            do { try body(clock) } catch { failure = error }
            return 0
        }
        if let failure { throw failure }
        return clock
    }

    func texts(_ addresses: [IPAddress]) -> [String] { addresses.map(\.text) }

    func testEachFamilyIsAskedFromItsOwnRandomPortAndTheAnswerKept() throws {
        let stack = ScriptedStack()
        stack.ipv6Addresses = [IPv6Address("fe80::5054:ff:fe12:3456")!, IPv6Address("2001:db8::5")!]
        try run { _ in
            XCTAssertEqual(self.texts(try stack.resolve("alias.example.test", waitingAtMost: 5 * self.second)),
                           ["2001:db8::10", "192.0.2.10"], "the CNAME chain followed; IPv6 first, as RFC 6724's precedence says")
            XCTAssertEqual(stack.queries.count, 2)
            XCTAssertNotEqual(stack.queries[0].port, stack.queries[1].port)
            XCTAssertTrue(stack.queries.allSatisfy { $0.port >= 49152 })
            XCTAssertNotEqual(stack.queries[0].bytes.prefix(2), stack.queries[1].bytes.prefix(2), "their IDs differ")
            XCTAssertEqual(stack.boundPorts, [], "every query's port is closed")
            XCTAssertEqual(self.texts(try stack.resolve("ALIAS.example.test.", waitingAtMost: 5 * self.second)), ["2001:db8::10", "192.0.2.10"])
            XCTAssertEqual(stack.queries.count, 2, "the second time from the cache")
            // A name that does not exist: NXDOMAIN with the SOA, kept for its minimum (5 minutes).
            XCTAssertThrowsError(try stack.resolve("nothere.example.test", waitingAtMost: 5 * self.second)) {
                XCTAssertEqual($0 as? NetworkError, .nameNotFound)
            }
            let asked = stack.queries.count
            XCTAssertThrowsError(try stack.resolve("nothere.example.test", waitingAtMost: 5 * self.second))
            XCTAssertEqual(stack.queries.count, asked, "the negative answer is kept too")
            // Addresses need no query; what is neither a name nor an address is refused before one.
            XCTAssertEqual(self.texts(try stack.resolve("192.0.2.1", waitingAtMost: 0)), ["192.0.2.1"])
            XCTAssertEqual(self.texts(try stack.resolve("2001:db8::1", waitingAtMost: 0)), ["2001:db8::1"])
            for bad in ["", ".", "a..b", "space here.test", "tab\there"] {
                XCTAssertThrowsError(try stack.resolve(bad, waitingAtMost: 0), bad) { XCTAssertEqual($0 as? NetworkError, .badName) }
            }
            XCTAssertEqual(stack.queries.count, asked)
        }
        // Names with fixed addresses (--hosts) are answered with no query, in RFC 6724's order.
        let fixed = ScriptedStack()
        fixed.ipv6Addresses = [IPv6Address("2001:db8::5")!]
        fixed.resolver = DNSStubResolver(random: SeededRandom(), hosts: DNSStubResolver.hostsTable("Web.Test=192.0.2.7,web.test=2001:db8::7")!)
        try run { _ in
            XCTAssertEqual(self.texts(try fixed.resolve("web.test", waitingAtMost: 0)), ["2001:db8::7", "192.0.2.7"])
            XCTAssertEqual(fixed.queries.count, 0)
        }
    }

    /// RFC 5452: answers from another address or port, with another ID or
    /// question, come first, each carrying 192.0.2.66; only the real one is taken.
    func testForgedAnswersAreIgnored() throws {
        let stack = ScriptedStack()
        let genuine = stack.nameServer
        stack.nameServer = { bytes, server in
            let real = genuine(bytes, server)[0].1
            var forgedID = real.data
            forgedID[1] ^= 0x5A
            let forgedQuestion = DNSAuthority(zones: [DNSTests.zone], transferTo: [])
                .answer(DNSStubQuery(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), name: DNSName("mail.example.test")!, type: DNSType.a,
                                     server: server).bytes, over: .udp, from: .v4(0x0A00_020F))[0]
            let spoofed = { (data: [UInt8], address: IPAddress, port: UInt16) in
                (UInt64(0), ReceivedDatagram(source: address, sourcePort: port, data: data))
            }
            return [spoofed(real.data, .v4(0x0A00_0266), 53), spoofed(real.data, server.address, 5353),
                    spoofed(forgedID, server.address, 53), spoofed(forgedQuestion, server.address, 53), (1_000_000, real)]
        }
        try run { _ in
            XCTAssertEqual(self.texts(try stack.resolve("web.example.test", waitingAtMost: 5 * self.second)), ["192.0.2.10"])
            XCTAssertEqual(stack.resolver.answersIgnored, 4)
            XCTAssertEqual(stack.queries.count, 1, "an IPv4-only stack asks for A alone")
        }
    }

    func testASilentServerIsPassedOverAfterASecondAndTheLimitIsKept() throws {
        let stack = ScriptedStack()
        let genuine = stack.nameServer
        stack.nameServers = [NameServer(address: .v4(0x0A00_0203)), NameServer(address: IPAddress("2001:db8::53")!, port: 5353)]
        stack.nameServer = { bytes, server in server.port == 5353 ? genuine(bytes, server) : [] }
        let clock = try run { clock in
            XCTAssertEqual(self.texts(try stack.resolve("web.example.test", waitingAtMost: 5 * self.second)), ["192.0.2.10"])
            XCTAssertEqual(stack.queries.map(\.server.text), ["10.0.2.3", "[2001:db8::53]:5353"])
            XCTAssertEqual(clock.count, 1_000_000, "the second server asked a second after the first")
        }
        _ = clock
        // No server answers: the time limit, not the rounds, ends it.
        let silent = ScriptedStack()
        silent.nameServer = { _, _ in [] }
        try run { clock in
            XCTAssertThrowsError(try silent.resolve("web.example.test", waitingAtMost: 2_500_000_000)) {
                XCTAssertEqual($0 as? NetworkError, .timedOut)
            }
            XCTAssertEqual(clock.count, 2_500_000)
            XCTAssertEqual(silent.queries.count, 2, "asked at 0 and after 1 s; the next wait (2 s) outlasts the limit")
        }
        let none = ScriptedStack()
        none.nameServers = []
        try run { _ in
            XCTAssertThrowsError(try none.resolve("web.example.test", waitingAtMost: self.second)) {
                XCTAssertEqual($0 as? NetworkError, .noNameServers)
            }
        }
    }

    func testATruncatedAnswerIsAskedAgainOverTCP() throws {
        let stack = ScriptedStack()
        let authority = DNSAuthority(zones: [DNSTests.zone], transferTo: [])
        stack.nameServer = { bytes, server in
            var cut = authority.answer(bytes, over: .udp, from: .v4(0x0A00_020F))[0]
            cut[2] |= 0x02                          // TC
            cut = Array(cut[0..<12]) + Array(cut[12...].prefix(bytes.count - 12 - 11))  // the question only (no OPT)
            cut[6] = 0; cut[7] = 0; cut[8] = 0; cut[9] = 0; cut[10] = 0; cut[11] = 0
            return [(0, ReceivedDatagram(source: server.address, sourcePort: server.port, data: cut))]
        }
        stack.peer = { _, port, written in
            guard port == 53, written.count >= 2, written.count == 2 + (Int(written[0]) << 8 | Int(written[1])) else { return nil }
            let answer = authority.answer(Array(written[2...]), over: .tcp, from: .v4(0x0A00_020F))[0]
            return [UInt8(answer.count >> 8), UInt8(answer.count & 0xFF)] + answer
        }
        try run { _ in
            XCTAssertEqual(self.texts(try stack.resolve("web.example.test", waitingAtMost: 5 * self.second)), ["192.0.2.10"])
            XCTAssertEqual(stack.attempts.map(\.address.text), ["10.0.2.3"], "over TCP to the same server")
        }
    }

    /// RFC 8305: the second address is tried 250 ms after the first unless
    /// the first fails sooner; the first to connect wins, the others are dropped.
    func testHappyEyeballsRacesTheAddresses() throws {
        let stack = ScriptedStack()
        let six = IPAddress("2001:db8::10")!, four = IPAddress("192.0.2.10")!
        stack.connecting = { $0 == six ? (.max, nil) : (10_000_000, nil) }
        try run { clock in
            let connection = try stack.connect(toFirstOf: [six, four], port: 80, waitingAtMost: 5 * self.second)
            XCTAssertEqual(connection.remoteAddress, four)
            XCTAssertEqual(stack.attempts.map(\.at), [0, 250_000])
            XCTAssertEqual(clock.count, 260_000)
        }
        // A refusal starts the next attempt at once; the families alternate (RFC 8305 4).
        let refusing = ScriptedStack()
        let sixB = IPAddress("2001:db8::11")!, fourB = IPAddress("192.0.2.11")!
        refusing.connecting = { $0 == fourB ? (5_000_000, nil) : (1_000_000, .refused) }
        try run { _ in
            let connection = try refusing.connect(toFirstOf: [six, sixB, four, fourB], port: 80, waitingAtMost: 5 * self.second)
            XCTAssertEqual(connection.remoteAddress, fourB)
            XCTAssertEqual(refusing.attempts.map(\.address), [six, four, sixB, fourB])
            XCTAssertEqual(refusing.attempts.map(\.at), [0, 1_000, 2_000, 3_000])
        }
        // All fail: the last failure.
        let failing = ScriptedStack()
        failing.connecting = { _ in (1_000_000, .unreachable) }
        try run { _ in
            XCTAssertThrowsError(try failing.connect(toFirstOf: [six, four], port: 80, waitingAtMost: 5 * self.second)) {
                XCTAssertEqual($0 as? NetworkError, .unreachable)
            }
        }
        XCTAssertEqual(HappyEyeballs.interleaved([six, sixB, four]), [six, four, sixB])
    }

    func testHTTPGetResolvesFollowsRedirectsAndReadsChunkedBodies() throws {
        let stack = ScriptedStack()
        let page = Array(repeating: Array("chunked body ".utf8), count: 300).flatMap { $0 }
        stack.peer = { address, port, written in
            guard firstIndex(of: [13, 10, 13, 10], in: written) != nil else { return nil }
            let request = String(decoding: written, as: UTF8.self)
            if request.hasPrefix("GET /old HTTP/1.1\r\nHost: web.example.test:8080\r\n") {
                return Array("HTTP/1.1 301 Moved Permanently\r\nLocation: /new?x=1\r\nContent-Length: 0\r\n\r\n".utf8)
            }
            if request.hasPrefix("GET /new?x=1 HTTP/1.1\r\nHost: web.example.test:8080\r\n") {
                var body = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n".utf8)
                for piece in stride(from: 0, to: page.count, by: 1000) {
                    let chunk = page[piece..<min(piece + 1000, page.count)]
                    body += Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
                }
                return body + Array("0\r\nX-Trailer: yes\r\n\r\n".utf8)
            }
            return Array("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".utf8)
        }
        try run { _ in
            let response = try HTTPClient.get("http://web.example.test:8080/old", on: stack, waitingAtMost: 5 * self.second)
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.body, page)
            XCTAssertEqual(response.header("content-type"), "text/plain")
            XCTAssertEqual(response.url.text, "http://web.example.test:8080/new?x=1")
            XCTAssertEqual(response.peer.text, "192.0.2.10")
            XCTAssertEqual(stack.streams.count, 2, "a connection a request")
            let missing = try HTTPClient.get("http://192.0.2.10:8080/missing", on: stack, waitingAtMost: 5 * self.second)
            XCTAssertEqual(missing.status, 404)
            XCTAssertEqual(missing.body, Array("not found".utf8))
            XCTAssertThrowsError(try HTTPClient.get("https://web.example.test/", on: stack, waitingAtMost: self.second)) {
                XCTAssertEqual($0 as? HTTPClientError, .unsupportedScheme)
            }
        }
        // A redirect to itself ends at the limit.
        let looping = ScriptedStack()
        looping.peer = { _, _, written in
            firstIndex(of: [13, 10, 13, 10], in: written) == nil ? nil
                : Array("HTTP/1.1 302 Found\r\nLocation: http://192.0.2.10/loop\r\nContent-Length: 0\r\n\r\n".utf8)
        }
        try run { _ in
            XCTAssertThrowsError(try HTTPClient.get("http://192.0.2.10/loop", on: looping, redirects: 3, waitingAtMost: self.second)) {
                XCTAssertEqual($0 as? HTTPClientError, .tooManyRedirects)
            }
            XCTAssertEqual(looping.streams.count, 4)
        }
    }

    /// https:// goes through the TLS device, for the URL's host name; a redirect may change the scheme.
    func testHTTPSGoesThroughTheTLSDeviceForTheURLsName() throws {
        let stack = ScriptedStack()
        let tls = ScriptedTLS(stack)
        stack.peer = { _, port, written in
            guard firstIndex(of: [13, 10, 13, 10], in: written) != nil else { return nil }
            if port == 8443 { return Array("HTTP/1.1 302 Found\r\nLocation: http://web.example.test/plain\r\nContent-Length: 0\r\n\r\n".utf8) }
            return Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain".utf8)
        }
        try run { _ in
            let response = try HTTPClient.get("https://web.example.test:8443/secure", on: stack, tls: tls, waitingAtMost: 5 * self.second)
            XCTAssertEqual(response.body, Array("plain".utf8))
            XCTAssertEqual(response.url.text, "http://web.example.test/plain")
            XCTAssertEqual(tls.serverNames, ["web.example.test"], "one TLS connection, for the URL's name")
            XCTAssertEqual(stack.attempts.count, 2)
            XCTAssertEqual(String(decoding: stack.streams[0].written, as: UTF8.self).split(separator: "\r\n").prefix(2),
                           ["GET /secure HTTP/1.1", "Host: web.example.test:8443"])
        }
    }

    /// Responses read whole and a byte at a time give the same; each malformed one fails with its reason.
    func testResponsesAreReadHoweverTheyArriveAndBadOnesRefused() {
        let url = NetworkURL("http://example.test/")!
        func read(_ text: String, bytewise: Bool = false, limit: Int = 1 << 20) -> HTTPResponseReader.Progress {
            var reader = HTTPResponseReader(url: url, peer: .v4(1), maximumBody: limit)
            let bytes = Array(text.utf8)
            var progress = HTTPResponseReader.Progress.needMore
            for piece in bytewise ? bytes.map({ [$0] }) : [bytes] where progress == .needMore { progress = reader.take(piece) }
            return progress == .needMore ? reader.finish() : progress
        }
        func body(_ progress: HTTPResponseReader.Progress) -> String? {
            if case .done(let response) = progress { return "\(response.status) " + String(decoding: response.body, as: UTF8.self) }
            return nil
        }
        let good = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "200 hello"),
            ("HTTP/1.0 200 OK\r\n\r\nuntil the end", "200 until the end"),
            ("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "204 "),
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length:  2 \r\n\r\nok", "200 ok"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", "200 abc0123456789"),
            ("HTTP/1.1 200\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", "200 ok"),
        ]
        for (text, expected) in good {
            XCTAssertEqual(body(read(text)), expected, text)
            XCTAssertEqual(body(read(text, bytewise: true)), expected, "a byte at a time: " + text)
        }
        let bad: [(String, String)] = [
            ("HTTP/2 200 OK\r\n\r\n", "a status line that is not HTTP/1.x's"),
            ("HTTP/1.1 2x0 OK\r\n\r\n", "a status line that is not HTTP/1.x's"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "a Content-Length that is not one number"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "a Content-Length that is not one number"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "a transfer coding that is not chunked"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "a chunk size that is not hexadecimal"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", "a chunk not followed by CRLF"),
            ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "a header name with a space or a control byte"),
            ("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "a header line without a name and a colon"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "the connection ended before the response did"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef", "bytes after the response"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", "a body longer than the limit"),
            ("HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 17_000) + "\r\n\r\n", "a head longer than 16 KiB"),
        ]
        for (text, reason) in bad {
            guard case .failed(let why) = read(text, limit: 1000) else { XCTFail("taken: " + text); continue }
            XCTAssertEqual(why.text, reason, text)
        }
        // Bytes bent every way never trap.
        var generator = SplitMix(seed: 7)
        let sample = Array(good[4].0.utf8)
        for _ in 0..<2000 {
            var bytes = sample
            for _ in 0..<3 { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            var reader = HTTPResponseReader(url: url, peer: .v4(1), maximumBody: 1000)
            _ = reader.take(Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))))
            _ = reader.finish()
        }
    }

    /// URLs as the client reads them, and Location headers resolved as Python's urllib.parse.urljoin does.
    func testURLsParseAndLocationsResolveAsURLJoinDoes() throws {
        let url = try XCTUnwrap(NetworkURL("HTTP://Web.Example.Test:8080/a/b/c.html?q=1#frag"))
        XCTAssertEqual(url.scheme, "http")
        XCTAssertEqual(url.host, "Web.Example.Test")
        XCTAssertEqual(url.port, 8080)
        XCTAssertEqual(url.target, "/a/b/c.html?q=1")
        XCTAssertEqual(NetworkURL("http://[2001:db8::1]/")?.authority, "[2001:db8::1]")
        XCTAssertEqual(NetworkURL("http://[2001:db8::1]:81")?.text, "http://[2001:db8::1]:81/")
        XCTAssertEqual(NetworkURL("tcp://echo.test:7")?.text, "tcp://echo.test:7")
        XCTAssertEqual(NetworkURL("http://h.test?x")?.target, "/?x")
        for bad in ["tcp://echo.test", "http://user@h.test/", "http://h.test:0/", "http://h.test:65536/", "ftp://h.test/", "http:/h.test",
                    "http://h test/", "http://h.test/a b", "http://h.test/\r\nX: y", "http://[2001:db8::1/", "http://[h.test]/", "http://h_t/",
                    "http://:80/", "http://h.test:/"] {
            XCTAssertNil(NetworkURL(bad), bad)
        }
        let base = "http://h.test:8080/a/b/c.html?q=1"
        let locations = ["/x", "y.html", "../z", "./w/../v", "../../../up", "/p/./q/../r", "http://other.test/p", "//third.test/q", "?only=query", "d/e", "http://[2001:db8::1]:81/v6"]
        let ours = locations.map { NetworkURL(base)!.resolving($0)?.text ?? "nil" }
        let theirs = try HostReference.python("""
            import sys, urllib.parse
            base = sys.stdin.readline().strip()
            for line in sys.stdin:
                print(urllib.parse.urljoin(base, line.strip()))
            """, lines: [base] + locations, needs: "urllib.parse")
        XCTAssertEqual(ours, theirs)
    }
}
