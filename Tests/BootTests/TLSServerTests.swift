@testable import Boot
import Foundation
import Glibc
import XCTest

/// The TLS 1.3 server state machine against OpenSSL's s_client and Python's
/// ssl module (OpenSSL too, through another front end) over real sockets on
/// the loopback, and against malformed input fed to it directly.
final class TLSServerTests: XCTestCase {
    /// A self-signed certificate for "localhost" and its key, made by openssl.
    struct Credentials {
        let folder: URL
        var certificatePath: String { folder.appendingPathComponent("cert.pem").path }
        let certificate: [UInt8]
        let privateKey: TLSPrivateKey
        /// With a ticket key drawn once, as TLSService does at start.
        let ticketKey = TLSServerTests.random(32)
        var configuration: TLSServerConfiguration {
            var configuration = TLSServerConfiguration(identities: [TLSIdentity(certificateChain: [certificate], privateKey: privateKey)])
            configuration.ticketKey = ticketKey
            return configuration
        }
    }

    /// An Ed25519 certificate, or with `ecdsa` a P-256 one, for `host`.
    func makeCredentials(ecdsa: Bool = false, host: String = "localhost") throws -> Credentials {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        func openssl(_ arguments: [String]) throws {
            let result = try HostReference.run("/usr/bin/openssl", arguments)
            XCTAssertEqual(result.status, 0, "openssl \(arguments.joined(separator: " "))")
        }
        let path = { (name: String) in folder.appendingPathComponent(name).path }
        try openssl(["req", "-x509", "-newkey"] + (ecdsa ? ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["ed25519"])
                     + ["-nodes", "-keyout", path("key.pem"), "-out", path("cert.pem"),
                     "-subj", "/CN=\(host)", "-addext", "subjectAltName=DNS:\(host)", "-days", "2"])
        try openssl(["x509", "-in", path("cert.pem"), "-outform", "DER", "-out", path("cert.der")])
        try openssl(["pkey", "-in", path("key.pem"), "-outform", "DER", "-out", path("key.der")])
        let key = try XCTUnwrap(PEM.blocks("PRIVATE KEY", in: try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("key.pem")))))?.first)
        let privateKey = try XCTUnwrap(ecdsa ? PEM.p256PrivateKey(pkcs8: key).map(TLSPrivateKey.ecdsaP256)
                                             : PEM.ed25519PrivateKey(pkcs8: key).map(TLSPrivateKey.ed25519))
        return Credentials(folder: folder, certificate: try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("cert.der")))),
                           privateKey: privateKey)
    }

    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// A loopback listener that runs one TLSServer per accepted connection on
    /// its own thread: each chunk of application data is answered with
    /// "echo: " and the chunk; after `closeAfter` bytes the server closes.
    final class EchoListener {
        let socket: Int32
        let port: UInt16
        private(set) var servers: [TLSServer] = []
        private let lock = NSLock()

        /// `seconds` is the servers' clock for tickets' ages.
        init(configuration: TLSServerConfiguration, closeAfter: Int, seconds: @escaping () -> UInt64 = { 0 }) throws {
            let listening = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            socket = listening
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) == 0 && getsockname(listening, $0, &length) == 0 }
            }
            guard bound, listen(listening, 8) == 0 else { throw XCTSkip("no loopback socket") }
            port = UInt16(bigEndian: address.sin_port)
            Thread {
                while true {
                    let connection = accept(listening, nil, nil)
                    guard connection >= 0 else { return }
                    Thread { self.serve(connection, configuration: configuration, closeAfter: closeAfter, seconds: seconds) }.start()
                }
            }.start()
        }

        deinit { shutdown(socket, Int32(SHUT_RDWR)); close(socket) }

        private func serve(_ connection: Int32, configuration: TLSServerConfiguration, closeAfter: Int, seconds: @escaping () -> UInt64) {
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var server = TLSServer(configuration: configuration, random: TLSServerTests.random, seconds: seconds)
            var echoed = 0
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !server.isClosed {
                let count = recv(connection, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                let output = server.receive(Array(buffer[0..<count]))
                var reply = output.toSend
                if !output.received.isEmpty {
                    reply += server.send(Array("echo: ".utf8) + output.received)
                    echoed += output.received.count
                    if echoed >= closeAfter { reply += server.close() }
                }
                // The client closed its side: this side still answers what came, then closes.
                if output.peerClosed { reply += server.close() }
                _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(connection)
            lock.lock(); servers.append(server); lock.unlock()
        }

        var finished: [TLSServer] { lock.lock(); defer { lock.unlock() }; return servers }
    }

    /// Runs openssl s_client against the listener with `input` and the extra
    /// arguments; returns its output and status. It verifies the chain and
    /// the name `host` against the self-signed certificate; it sends
    /// `serverName` (the host if nil) as server_name, unless `sendingServerName` is false.
    func sClient(_ port: UInt16, _ credentials: Credentials, host: String = "localhost", serverName: String? = nil, sendingServerName: Bool = true,
                 input: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
        let result = try HostReference.run("/usr/bin/timeout", ["60", "/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-tls1_3"]
            + (sendingServerName ? ["-servername", serverName ?? host] : ["-noservername"]) + ["-verify_hostname", host, "-CAfile", credentials.certificatePath,
            "-verify_return_error", "-ign_eof"] + arguments, input: Data(input.utf8), withErrors: true)
        return (result.status, String(decoding: result.output, as: UTF8.self))
    }

    /// PEM as openssl writes it: the certificate's DER and the key's 32
    /// bytes; broken base64 and other kinds of key refused.
    func testPEMAndPKCS8AsOpenSSLWritesThem() throws {
        let credentials = try makeCredentials()
        let pem = try [UInt8](Data(contentsOf: URL(fileURLWithPath: credentials.certificatePath)))
        XCTAssertEqual(PEM.blocks("CERTIFICATE", in: pem), [credentials.certificate])
        XCTAssertEqual(PEM.blocks("CERTIFICATE", in: pem + pem), [credentials.certificate, credentials.certificate])
        XCTAssertEqual(PEM.blocks("PRIVATE KEY", in: pem), [])
        let keyPEM = try [UInt8](Data(contentsOf: credentials.folder.appendingPathComponent("key.pem")))
        let keyDER = try XCTUnwrap(PEM.blocks("PRIVATE KEY", in: keyPEM)?.first)
        guard case .ed25519(let privateKey) = credentials.privateKey else { return XCTFail("an Ed25519 key") }
        XCTAssertEqual(PEM.ed25519PrivateKey(pkcs8: keyDER), privateKey)
        XCTAssertNil(PEM.p256PrivateKey(pkcs8: keyDER))
        // A P-256 key as PKCS#8 and as SEC 1 (openssl pkey's DER for an EC key): the same scalar.
        let ecdsa = try makeCredentials(ecdsa: true)
        guard case .ecdsaP256(let scalar) = ecdsa.privateKey else { return XCTFail("a P-256 key") }
        let sec1 = try [UInt8](Data(contentsOf: ecdsa.folder.appendingPathComponent("key.der")))
        XCTAssertEqual(PEM.p256PrivateKey(sec1: sec1), scalar)
        XCTAssertNil(PEM.p256PrivateKey(pkcs8: sec1))
        XCTAssertNil(PEM.ed25519PrivateKey(pkcs8: sec1))
        XCTAssertNil(PEM.ed25519PrivateKey(pkcs8: keyDER + [0]))
        var otherAlgorithm = keyDER
        otherAlgorithm[11] = 0x6e                                   // 1.3.101.110, X25519
        XCTAssertNil(PEM.ed25519PrivateKey(pkcs8: otherAlgorithm))
        for broken in ["-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nAAAA",
                       "-----BEGIN CERTIFICATE-----\nAA=A\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nAAB=\n-----END CERTIFICATE-----"] {
            XCTAssertNil(PEM.blocks("CERTIFICATE", in: Array(broken.utf8)), broken)
        }
        XCTAssertEqual(PEM.blocks("CERTIFICATE", in: Array("-----BEGIN CERTIFICATE-----\nAAA=\n-----END CERTIFICATE-----".utf8)), [[0, 0]])
    }

    /// s_client sends `line`, verifying the chain and name; its output must
    /// show the echo and every one of `expected`.
    func assertEchoed(_ line: String, port: UInt16, _ credentials: Credentials, _ arguments: [String], showing expected: [String],
                      file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let (status, output) = try sClient(port, credentials, input: line + "\n", arguments)
        XCTAssertEqual(status, 0, output, file: file, line: lineNumber)
        for text in ["echo: " + line, "Verification: OK"] + expected {
            XCTAssertTrue(output.contains(text), "no \(text): \(output)", file: file, line: lineNumber)
        }
    }

    func testHandshakesWithOpenSSLInEveryCipherSuite() throws {
        let credentials = try makeCredentials()
        let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 6)
        for suite in ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"] {
            try assertEchoed("hello", port: listener.port, credentials, ["-ciphersuites", suite],
                             showing: ["Cipher is \(suite)", "Peer signature type: ed25519"])
        }
    }

    /// A client that offers an X448 key share first gets a HelloRetryRequest
    /// for X25519 and completes; ALPN picks the server's choice.
    func testHelloRetryRequestAndALPNWithOpenSSL() throws {
        let credentials = try makeCredentials()
        var configuration = credentials.configuration
        configuration.applicationProtocols = ["http/1.1"]
        let listener = try EchoListener(configuration: configuration, closeAfter: 3)
        try assertEchoed("hi", port: listener.port, credentials, ["-groups", "X448:X25519", "-alpn", "h2,http/1.1"],
                         showing: ["ALPN protocol: http/1.1", "Server Temp Key: X25519"])
        let refused = try sClient(listener.port, credentials, input: "hi\n", ["-alpn", "h2"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("no application protocol"), refused.output)
    }

    /// A P-256 certificate (ECDSA, as browsers take) and a P-256 key share,
    /// and a HelloRetryRequest to P-256 from a client that guessed P-384.
    func testECDSAAndP256WithOpenSSL() throws {
        let credentials = try makeCredentials(ecdsa: true)
        let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 3)
        for groups in ["P-256", "P-384:P-256"] {
            try assertEchoed("hi", port: listener.port, credentials, ["-groups", groups],
                             showing: ["Peer signature type: ECDSA", "Server Temp Key: ECDH, prime256v1"])
        }
    }

    /// SNI (RFC 6066): an Ed25519 certificate for localhost, the default, and
    /// a P-256 one for *.example.test. s_client gets the one naming the host
    /// it asks for, and verifies it for that name; one that names neither
    /// host, or none, gets the default, unless it cannot verify its signature.
    func testServerNameChoosesTheCertificateWithOpenSSL() throws {
        let local = try makeCredentials()
        let wildcard = try makeCredentials(ecdsa: true, host: "*.example.test")
        let configuration = TLSServerConfiguration(identities: [TLSIdentity(certificateChain: [local.certificate], privateKey: local.privateKey),
                                                                TLSIdentity(certificateChain: [wildcard.certificate], privateKey: wildcard.privateKey)])
        let listener = try EchoListener(configuration: configuration, closeAfter: 2)
        for host in ["www.example.test", "WWW.Example.TEST"] {
            let (status, output) = try sClient(listener.port, wildcard, host: host, input: "a\n")
            XCTAssertEqual(status, 0, output)
            for text in ["Verification: OK", "Peer signature type: ECDSA", "subject=CN = *.example.test", "echo: a"] { XCTAssert(output.contains(text), "\(host): no \(text): \(output)") }
        }
        for host in ["localhost", "example.test", "a.b.example.test"] {      // a wildcard stands for one label, not none or two
            let (status, output) = try sClient(listener.port, local, serverName: host, input: "b\n")
            XCTAssertEqual(status, 0, output)
            for text in ["Verification: OK", "Peer signature type: ed25519", "subject=CN = localhost"] { XCTAssert(output.contains(text), "\(host): no \(text): \(output)") }
        }
        let unnamed = try sClient(listener.port, local, sendingServerName: false, input: "c\n")
        XCTAssert(unnamed.output.contains("Verification: OK") && unnamed.output.contains("subject=CN = localhost"), unnamed.output)
        // A client that takes only ECDSA signatures gets the certificate it can verify.
        let ecdsaOnly = try sClient(listener.port, wildcard, host: "www.example.test", sendingServerName: false, input: "d\n", ["-sigalgs", "ECDSA+SHA256"])
        XCTAssert(ecdsaOnly.output.contains("Verification: OK") && ecdsaOnly.output.contains("subject=CN = *.example.test"), ecdsaOnly.output)
    }

    /// s_client's "K" command sends a KeyUpdate asking for one back; the
    /// data after it still arrives and is answered. Each line is typed only
    /// once the answer to the one before has come, so that s_client reads
    /// "K" alone, as a command, however fast the machine.
    func testKeyUpdateWithOpenSSL() throws {
        let credentials = try makeCredentials()
        let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 13)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        // Without -ign_eof, which turns s_client's commands off.
        process.arguments = ["s_client", "-connect", "127.0.0.1:\(listener.port)", "-tls1_3", "-CAfile", credentials.certificatePath,
                             "-verify_return_error"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        var seen = ""
        let lock = NSLock()
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            lock.lock(); seen += text; lock.unlock()
        }
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func waitFor(_ text: String) {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                lock.lock(); let found = seen.contains(text); lock.unlock()
                if found { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            lock.lock(); XCTFail("waited 60 s for \(text): \(seen)"); lock.unlock()
        }
        waitFor("Verify return code: 0")
        stdin.fileHandleForWriting.write(Data("first\n".utf8))
        waitFor("echo: first")
        stdin.fileHandleForWriting.write(Data("K\n".utf8))
        waitFor("KEYUPDATE")
        stdin.fileHandleForWriting.write(Data("second\n".utf8))
        waitFor("echo: second")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        // The server read the client's new keys, and sent under its own new ones.
        XCTAssertEqual(listener.finished.count, 1)
    }

    /// s_client keeps the ticket of a full handshake (-sess_out) and resumes
    /// with it (-sess_in): no certificate, a fresh key exchange, after a
    /// HelloRetryRequest too. A ticket this server did not seal, or one past
    /// its lifetime, gets a full handshake instead.
    func testResumptionWithOpenSSL() throws {
        let credentials = try makeCredentials()
        final class Clock: @unchecked Sendable { var seconds: UInt64 = 1000 }
        let clock = Clock()
        var configuration = credentials.configuration
        configuration.ticketLifetime = 60
        let listener = try EchoListener(configuration: configuration, closeAfter: 3, seconds: { clock.seconds })
        let session = credentials.folder.appendingPathComponent("session.pem").path
        try assertEchoed("hi", port: listener.port, credentials, ["-sess_out", session], showing: ["New, TLSv1.3"])
        try assertEchoed("hi", port: listener.port, credentials, ["-sess_in", session], showing: ["Reused, TLSv1.3"])
        try assertEchoed("hi", port: listener.port, credentials, ["-sess_in", session, "-groups", "X448:X25519"], showing: ["Reused, TLSv1.3"])
        var otherKey = credentials.configuration
        otherKey.ticketKey = TLSServerTests.random(32)
        let stranger = try EchoListener(configuration: otherKey, closeAfter: 3)
        try assertEchoed("hi", port: stranger.port, credentials, ["-sess_in", session], showing: ["New, TLSv1.3"])
        clock.seconds += 61
        try assertEchoed("hi", port: listener.port, credentials, ["-sess_in", session], showing: ["New, TLSv1.3"])
        XCTAssertEqual(listener.finished.map(\.resumed).sorted { !$0 && $1 }, [false, false, true, true])
    }

    /// GnuTLS's client, verifying the chain and the name, in TLS 1.3 only,
    /// against both kinds of certificate.
    func testGnuTLSClient() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gnutls-cli") else {
            if ProcessInfo.processInfo.environment["MIRAGE_SYSTEM_TESTS"] == "1" { XCTFail("gnutls-cli is missing: run scripts/setup") }
            throw XCTSkip("gnutls-cli is not installed (scripts/setup installs gnutls-bin)")
        }
        for ecdsa in [false, true] {
            let credentials = try makeCredentials(ecdsa: ecdsa)
            let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 6)
            let result = try HostReference.run("/usr/bin/timeout", ["60", "/usr/bin/gnutls-cli", "127.0.0.1", "-p", String(listener.port),
                "--sni-hostname", "localhost", "--verify-hostname", "localhost", "--x509cafile", credentials.certificatePath,
                "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"], input: Data("hello\n".utf8), withErrors: true)
            let output = String(decoding: result.output, as: UTF8.self)
            XCTAssertTrue(output.contains("echo: hello"), output)
            XCTAssertTrue(output.contains("(TLS1.3-X.509)"), output)
            XCTAssertTrue(output.contains("Certificate is trusted") || output.contains("The certificate is trusted"), output)
        }
    }

    /// tlslite-ng (PyPI), a TLS 1.3 written in pure Python: one more
    /// implementation that shares no code with OpenSSL.
    /// record_size_limit (RFC 8449): tlslite-ng and gnutls-cli say they take
    /// small records, and refuse any larger that comes; the server keeps to
    /// it in its encrypted flight and its data. s_client pads what it sends
    /// (RFC 8446 5.4), and the server reads through the padding.
    func testRecordSizeLimitAndPaddingWithOtherClients() throws {
        let credentials = try makeCredentials()
        /// Whether the line came back: the server echoes each piece as it comes, so "echo: " may come between its pieces.
        func echoed(_ line: String, in output: String) -> Bool {
            output.split(separator: "\n").contains { $0.hasPrefix("echo: ") && $0.replacingOccurrences(of: "echo: ", with: "") == line }
        }
        let line = String(repeating: "0123456789", count: 300)
        let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 500)
        let lite = try tlsLite(listener.port, sending: line, recordSizeLimit: 256)
        XCTAssert(lite.hasSuffix("\n" + "echo: " + line + "\n"), lite)

        // gnutls-cli sends what one of its records holds of each read of its input, so its line fits one;
        // the server's flight (over 600 bytes) does not.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/gnutls-cli") {
            let short = String(line.prefix(500))
            let gnutls = try HostReference.run("/usr/bin/timeout", ["60", "/usr/bin/gnutls-cli", "127.0.0.1", "-p", String(listener.port),
                "--sni-hostname", "localhost", "--verify-hostname", "localhost", "--x509cafile", credentials.certificatePath, "--recordsize=512",
                "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"], input: Data((short + "\n").utf8), withErrors: true, keepingInputOpen: true)
            let output = String(decoding: gnutls.output, as: UTF8.self)
            XCTAssert(echoed(short, in: output), output)
        }

        let padded = try sClient(listener.port, credentials, input: line + "\n", ["-record_padding", "1024"])
        XCTAssert(echoed(line, in: padded.output), padded.output)
    }

    /// The records themselves, between this project's client and server: a
    /// client's limit of 100 bounds every protected record the server sends,
    /// the server's limit of 200 the client's, and padding rounds each
    /// record up to its block, within the limit.
    func testRecordsKeepToTheLimitAndThePadding() throws {
        let credentials = try makeCredentials()
        var serverConfiguration = credentials.configuration
        serverConfiguration.recordSizeLimit = 200
        serverConfiguration.paddingBlock = 64
        var clientConfiguration = TLSClientConfiguration(trustStore: X509TrustStore(anchors: [try XCTUnwrap(X509Certificate(der: credentials.certificate))]),
                                                         serverName: "localhost")
        clientConfiguration.recordSizeLimit = 100
        clientConfiguration.paddingBlock = 48
        var server = TLSServer(configuration: serverConfiguration, random: TLSServerTests.random)
        var client = TLSClient(configuration: clientConfiguration, random: TLSServerTests.random,
                               time: { UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) })
        /// Each protected record's inner plaintext length (its body less the 16-byte tag).
        func innerLengths(_ bytes: [UInt8]) -> [Int] {
            var lengths: [Int] = [], offset = 0
            while offset + 5 <= bytes.count {
                let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
                if bytes[offset] == TLSContentType.applicationData { lengths.append(length - 16) }
                offset += 5 + length
            }
            return lengths
        }
        var toServer = client.start()
        var fromServer: [UInt8] = [], serverSent: [Int] = [], clientSent: [Int] = []
        for _ in 0..<4 where !(client.isConnected && server.isConnected) {
            let answer = server.receive(toServer).toSend
            serverSent += innerLengths(answer)
            let reply = client.receive(answer)
            toServer = reply.toSend
            clientSent += innerLengths(toServer)
            fromServer += reply.received
        }
        XCTAssert(client.isConnected && server.isConnected)
        // Each side reads the other's padded records whole.
        let data = [UInt8](repeating: 7, count: 1000)
        let fromServerData = server.send(data), fromClientData = client.send(data)
        serverSent += innerLengths(fromServerData)
        clientSent += innerLengths(fromClientData)
        XCTAssertEqual(client.receive(fromServerData).received, data)
        XCTAssertEqual(server.receive(fromClientData).received, data)
        XCTAssertGreaterThan(serverSent.count, 15, "the flight, the ticket and the data in many records")
        XCTAssert(serverSent.allSatisfy { $0 <= 100 && ($0 % 64 == 0 || $0 == 100) }, "\(serverSent)")
        XCTAssert(clientSent.allSatisfy { $0 <= 200 && ($0 % 48 == 0 || $0 == 200) }, "\(clientSent)")
        // A record past the limit a side said is a record_overflow.
        var big = TLSServer(configuration: serverConfiguration, random: TLSServerTests.random)
        var greedy = clientConfiguration
        greedy.paddingBlock = 0
        var bigClient = TLSClient(configuration: greedy, random: TLSServerTests.random,
                                  time: { UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) })
        var hello = bigClient.start()
        for _ in 0..<3 where !bigClient.isConnected { hello = bigClient.receive(big.receive(hello).toSend).toSend; _ = big.receive(hello) }
        XCTAssert(bigClient.isConnected && big.isConnected)
        bigClient.records.peerRecordSizeLimit = TLSRecordLayer.largestRecordSizeLimit   // as if it had not heard
        let overflow = big.receive(bigClient.send([UInt8](repeating: 1, count: 300)))
        XCTAssertEqual(overflow.alert, .recordOverflow)
    }

    /// This project's client resumes from this project's server's ticket,
    /// and a ticket with a lifetime over 7 days or no ticket bytes ends the
    /// connection with the alert RFC 8446 names.
    func testTheClientResumesFromTheServersTicket() throws {
        let credentials = try makeCredentials()
        let now = { UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }
        var configuration = TLSClientConfiguration(trustStore: X509TrustStore(anchors: [try XCTUnwrap(X509Certificate(der: credentials.certificate))]),
                                                   serverName: "localhost")
        func connect(_ configuration: TLSClientConfiguration) -> (TLSClient, TLSServer) {
            var server = TLSServer(configuration: credentials.configuration, random: TLSServerTests.random)
            var client = TLSClient(configuration: configuration, random: TLSServerTests.random, time: now)
            // Back and forth until neither has more to say: the hellos, the flights, the ticket.
            var toServer = client.start()
            for _ in 0..<5 {
                let toClient = server.receive(toServer).toSend
                guard !toClient.isEmpty else { break }
                toServer = client.receive(toClient).toSend
            }
            return (client, server)
        }
        let (first, _) = connect(configuration)
        XCTAssertFalse(first.resumed)
        configuration.session = try XCTUnwrap(first.session)
        let (second, secondServer) = connect(configuration)
        XCTAssert(second.isConnected && second.resumed && secondServer.resumed)

        func ticketAlert(lifetime: UInt32, ticket: [UInt8]) -> TLSAlert? {
            var (client, server) = connect(configuration)
            var body: [UInt8] = []
            body.appendInteger(lifetime, bytes: 4)
            body.appendInteger(UInt32(7), bytes: 4)
            body.appendVector([0], lengthBytes: 1)
            body.appendVector(ticket, lengthBytes: 2)
            body.appendVector([], lengthBytes: 2)
            return client.receive(server.records.records(server.handshakeMessage(4, body), type: TLSContentType.handshake)).alert
        }
        XCTAssertNil(ticketAlert(lifetime: 604_800, ticket: [1, 2, 3]))
        XCTAssertEqual(ticketAlert(lifetime: 604_801, ticket: [1, 2, 3]), .illegalParameter)
        XCTAssertEqual(ticketAlert(lifetime: 60, ticket: []), .decodeError)
    }

    /// tlslite-ng (pure Python, PyPI) connects, saying it takes records of
    /// `recordSizeLimit` if given, sends `data` and reads to the server's
    /// close; what it prints: its version and cipher, then what came.
    func tlsLite(_ port: UInt16, sending data: String, recordSizeLimit: Int? = nil) throws -> String {
        let script = """
            import socket, sys
            from tlslite.api import TLSConnection, HandshakeSettings
            settings = HandshakeSettings()
            settings.minVersion = settings.maxVersion = (3, 4)
            if sys.argv[3]: settings.record_size_limit = int(sys.argv[3])
            connection = TLSConnection(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30))
            connection.handshakeClientCert(settings=settings, serverName="localhost")
            print(connection.version, connection.getCipherName())
            connection.write(sys.argv[2].encode())
            data = b""
            while True:
                chunk = connection.read()
                if not chunk: break
                data += chunk
            print(data.decode())
            """
        let python = try HostReference.python(with: "tlslite")
        let result = try HostReference.run("/usr/bin/timeout", ["60", python, "-c", script, String(port), data, recordSizeLimit.map(String.init) ?? ""],
                                           withErrors: true)
        return String(decoding: result.output, as: UTF8.self)
    }

    func testTLSLiteClient() throws {
        let credentials = try makeCredentials(ecdsa: true)
        let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 4)
        XCTAssertEqual(try tlsLite(listener.port, sending: "ping"), "(3, 4) chacha20-poly1305\necho: ping\n")
    }

    /// Python's ssl module, verifying the certificate and the host name, in
    /// three connections at once.
    func testPythonsSSLModule() throws {
        let credentials = try makeCredentials()
        let listener = try EchoListener(configuration: credentials.configuration, closeAfter: 5)
        let script = """
            import socket, ssl, sys, threading
            port, cafile = int(sys.argv[1]), sys.argv[2]
            context = ssl.create_default_context(cafile=cafile)
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            results = {}
            def talk(index):
                with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                    with context.wrap_socket(raw, server_hostname="localhost") as tls:
                        tls.sendall(b"ping%d" % index)
                        data = b""
                        while True:
                            chunk = tls.recv(100)
                            if not chunk: break
                            data += chunk
                        results[index] = (tls.version(), tls.cipher()[0], data.decode())
            threads = [threading.Thread(target=talk, args=(i,)) for i in range(3)]
            for t in threads: t.start()
            for t in threads: t.join()
            for index in sorted(results): print(*results[index])
            # One more connection, resuming the session of one before (its ticket came with the data).
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"first"); tls.recv(100); session = tls.session
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                    tls.sendall(b"again"); print("resumed", tls.session_reused, tls.recv(100).decode())
            """
        let python = try HostReference.python(with: "ssl")
        let result = try HostReference.run("/usr/bin/timeout", ["60", python, "-c", script, String(listener.port), credentials.certificatePath])
        let lines = String(decoding: result.output, as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(lines, (0..<3).map { "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 echo: ping\($0)" } + ["resumed True echo: again"])
    }

    // MARK: Malformed input, fed to the state machine directly

    /// A server whose certificate is only bytes: these tests never get as far
    /// as a client checking it.
    func server() -> TLSServer {
        TLSServer(configuration: TLSServerConfiguration(identities: [TLSIdentity(certificateChain: [[0x30, 0x00]], privateKey: .ed25519([UInt8](repeating: 1, count: 32)))]),
                  random: TLSServerTests.random)
    }

    /// A ClientHello record with the given parts; by default one this server takes.
    func clientHello(suites: [UInt16] = [0x1303], compression: [UInt8] = [0], versions: [UInt16]? = [0x0304],
                     groups: [UInt16] = [0x001d], keyShare: (UInt16, [UInt8])? = (0x001d, X25519.publicKey(privateKey: random(32))),
                     algorithms: [UInt16] = [0x0807], extra: [UInt8] = []) -> [UInt8] {
        func list16(_ values: [UInt16], lengthBytes: Int) -> [UInt8] {
            var body: [UInt8] = []
            for value in values { body.appendInteger(Int(value), bytes: 2) }
            var vector: [UInt8] = []
            vector.appendVector(body, lengthBytes: lengthBytes)
            return vector
        }
        var extensions: [UInt8] = []
        func add(_ type: Int, _ data: [UInt8]) { extensions.appendInteger(type, bytes: 2); extensions.appendVector(data, lengthBytes: 2) }
        if let versions { add(43, list16(versions, lengthBytes: 1)) }
        add(10, list16(groups, lengthBytes: 2))
        add(13, list16(algorithms, lengthBytes: 2))
        if let (group, key) = keyShare {
            var share: [UInt8] = []
            share.appendInteger(Int(group), bytes: 2)
            share.appendVector(key, lengthBytes: 2)
            var shares: [UInt8] = []
            shares.appendVector(share, lengthBytes: 2)
            add(51, shares)
        }
        extensions += extra
        var body: [UInt8] = [3, 3] + TLSServerTests.random(32)
        body.appendVector(TLSServerTests.random(32), lengthBytes: 1)
        body += list16(suites, lengthBytes: 2)
        body.appendVector(compression, lengthBytes: 1)
        body.appendVector(extensions, lengthBytes: 2)
        var message: [UInt8] = [1]
        message.appendVector(body, lengthBytes: 3)
        var record: [UInt8] = [22, 3, 1]
        record.appendVector(message, lengthBytes: 2)
        return record
    }

    /// The alert a server sends for `bytes`, or nil if it did not close.
    func alert(for bytes: [UInt8]) -> TLSAlert? {
        var server = server()
        let output = server.receive(bytes)
        return output.closed ? output.alert : nil
    }

    func testEachFailureEndsWithTheAlertRFC8446Names() {
        var accepted = server()
        let output = accepted.receive(clientHello())
        XCTAssertFalse(output.closed)
        XCTAssertEqual(Array(output.toSend.prefix(6)), [22, 3, 3, output.toSend[3], output.toSend[4], 2], "a ServerHello first")
        XCTAssertEqual(alert(for: clientHello(compression: [1])), .illegalParameter)
        XCTAssertEqual(alert(for: clientHello(versions: nil)), .protocolVersion)
        XCTAssertEqual(alert(for: clientHello(versions: [0x0303])), .protocolVersion)
        XCTAssertEqual(alert(for: clientHello(suites: [0x009c])), .handshakeFailure)
        XCTAssertEqual(alert(for: clientHello(algorithms: [0x0403])), .handshakeFailure)
        XCTAssertEqual(alert(for: clientHello(groups: [0x0018], keyShare: (0x0018, [4] + TLSServerTests.random(96)))), .handshakeFailure)
        XCTAssertEqual(alert(for: clientHello(groups: [0x0017], keyShare: (0x0017, [4] + TLSServerTests.random(64)))), .illegalParameter,
                       "a P-256 share off the curve")
        XCTAssertEqual(alert(for: clientHello(keyShare: nil)), .missingExtension)
        XCTAssertEqual(alert(for: clientHello(keyShare: (0x001d, TLSServerTests.random(31)))), .illegalParameter)
        XCTAssertEqual(alert(for: clientHello(keyShare: (0x001d, [UInt8](repeating: 0, count: 32)))), .illegalParameter, "a small-order share")
        XCTAssertEqual(alert(for: clientHello(extra: [0, 43, 0, 3, 2, 3, 4])), .illegalParameter, "supported_versions twice")
        XCTAssertEqual(alert(for: clientHello(extra: [0, 28, 0, 2, 0, 63])), .illegalParameter, "a record_size_limit under 64 (RFC 8449 4)")
        XCTAssertEqual(alert(for: clientHello(extra: [0, 28, 0, 3, 0, 64, 0])), .decodeError, "a record_size_limit of three bytes")
        XCTAssertEqual(alert(for: clientHello(extra: [0, 41, 0, 0, 0, 21, 0, 0])), .illegalParameter, "pre_shared_key not last")
        // pre_shared_key: one identity ("abcd", age 0), then its binders.
        let identity: [UInt8] = [0, 10, 0, 4, 0x61, 0x62, 0x63, 0x64, 0, 0, 0, 0]
        let modes: [UInt8] = [0, 45, 0, 2, 1, 1]
        XCTAssertEqual(alert(for: clientHello(extra: modes + [0, 41, 0, 14] + identity + [0, 0])), .illegalParameter, "an identity without a binder")
        XCTAssertEqual(alert(for: clientHello(extra: modes + [0, 41, 0, 46] + identity + [0, 32, 31] + [UInt8](repeating: 0, count: 31))),
                       .decodeError, "a binder under 32 bytes")
        var withTickets = server()
        withTickets = TLSServer(configuration: { var c = withTickets.configuration; c.ticketKey = TLSServerTests.random(32); return c }(),
                                random: TLSServerTests.random)
        let unknownTicket = withTickets.receive(clientHello(extra: modes + [0, 41, 0, 47] + identity + [0, 33, 32] + [UInt8](repeating: 0, count: 32)))
        XCTAssertFalse(unknownTicket.closed, "a ticket this server did not seal: a full handshake")
        XCTAssertFalse(withTickets.resumed)
        XCTAssertEqual(alert(for: [23, 3, 3, 0, 1, 0]), .unexpectedMessage, "application data before the handshake")
        XCTAssertEqual(alert(for: [99, 3, 3, 0, 1, 0]), .unexpectedMessage, "an unknown record type")
        XCTAssertEqual(alert(for: Array("GET / HTTP/1.1\r\n".utf8)), .unexpectedMessage, "plaintext HTTP, at once")
        XCTAssertEqual(alert(for: [22, 3, 3, 0x40, 0x01] + [UInt8](repeating: 0, count: 0x4001)), .recordOverflow)
        XCTAssertEqual(alert(for: [22, 3, 3, 0, 4, 2, 0, 0, 0]), .unexpectedMessage, "a ServerHello to a server")
        XCTAssertEqual(alert(for: [22, 3, 3, 0, 5, 1, 0, 0, 1, 3]), .decodeError, "a truncated ClientHello")
        XCTAssertEqual(alert(for: [20, 3, 3, 0, 1, 1]), .unexpectedMessage, "change_cipher_spec before a ClientHello")
        // A peer's fatal alert closes without an answer.
        var closed = server()
        let ended = closed.receive([21, 3, 3, 0, 2, 2, 40])
        XCTAssertTrue(ended.closed && ended.toSend.isEmpty && ended.alert == .handshakeFailure)
    }

    /// A ClientHello cut anywhere waits for the rest; fed in single bytes it
    /// is taken as whole.
    func testTruncatedAndSplitRecordsWait() {
        let hello = clientHello()
        for length in 0..<hello.count {
            var server = server()
            let output = server.receive(Array(hello.prefix(length)))
            XCTAssertTrue(output.toSend.isEmpty && !output.closed, "cut at \(length)")
        }
        var server = server()
        var sent: [UInt8] = []
        for byte in hello { sent += server.receive([byte]).toSend }
        XCTAssertFalse(server.isClosed)
        XCTAssertEqual(sent[5], 2, "a ServerHello")
    }

    /// Every byte of a ClientHello changed, one at a time: the server goes on
    /// or ends with an alert, and never traps.
    func testEveryChangedByteOfAClientHelloEndsCleanly() {
        let hello = clientHello(extra: [0, 0, 0, 14, 0, 12, 0, 0, 9] + Array("localhost".utf8))
        var alerts: Set<UInt8> = []
        for index in 5..<hello.count {
            for change: UInt8 in [0x01, 0xff] {
                var changed = hello
                changed[index] ^= change
                var server = server()
                let output = server.receive(changed)
                if output.closed {
                    alerts.insert(output.alert?.rawValue ?? 255)
                    XCTAssertEqual(output.toSend.count, 7, "one plaintext alert record, byte \(index)")
                }
            }
        }
        XCTAssertTrue(alerts.isSuperset(of: [TLSAlert.decodeError.rawValue, TLSAlert.illegalParameter.rawValue]), "\(alerts)")
    }
}
