@testable import Boot
import Foundation
import Glibc
import XCTest

/// The TLS 1.3 client state machine against OpenSSL's s_server over the
/// loopback: every suite, both groups (P-256 through a HelloRetryRequest),
/// Ed25519, P-256 and RSA certificates under a CA, ALPN; and each way the
/// server's certificate can be wrong, refused with its reason and alert.
final class TLSClientTests: XCTestCase {
    /// A CA (Ed25519) and leaves for "www.example.test" with each kind of
    /// key; and a P-384 CA (as Let's Encrypt's ECDSA ones) that signs a P-256
    /// leaf with SHA-384, "p256-under-p384". ca.pem holds both CAs. Made by openssl.
    func makeCertificates() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let script = """
            cd "$0"
            openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.pem -subj "/CN=Test CA" -days 30 2>/dev/null
            printf 'subjectAltName = DNS:www.example.test\\nextendedKeyUsage = serverAuth\\n' > leaf.cnf
            for kind in ed25519 p256 p384 rsa; do
                case $kind in
                    ed25519) key="-newkey ed25519" ;;
                    p256) key="-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
                    p384) key="-newkey ec -pkeyopt ec_paramgen_curve:P-384" ;;
                    rsa) key="-newkey rsa:2048" ;;
                esac
                openssl req -new $key -nodes -keyout $kind.key -out $kind.csr -subj /CN=$kind 2>/dev/null
                openssl x509 -req -in $kind.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $kind.pem -days 30 -extfile leaf.cnf 2>/dev/null
            done
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -sha384 -nodes -keyout ca384.key -out ca384.pem -subj "/CN=Test CA P-384" -days 30 2>/dev/null
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout p256-under-p384.key -out p256-under-p384.csr -subj /CN=p256-under-p384 2>/dev/null
            openssl x509 -req -sha384 -in p256-under-p384.csr -CA ca384.pem -CAkey ca384.key -CAcreateserial -out p256-under-p384.pem -days 30 -extfile leaf.cnf 2>/dev/null
            cat ca384.pem >> ca.pem
            """
        let result = try HostReference.run("/bin/sh", ["-euc", script, folder.path], withErrors: true)
        XCTAssertEqual(result.status, 0, String(decoding: result.output, as: UTF8.self))
        return folder
    }

    /// `openssl s_server -www` on a free port with the given extra arguments; stopped at the test's end.
    func sServer(_ folder: URL, kind: String, _ arguments: [String] = []) throws -> UInt16 {
        for _ in 0..<20 {
            let port = UInt16.random(in: 20000...60000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-tls1_3", "-www", "-cert", folder.appendingPathComponent("\(kind).pem").path,
                                 "-key", folder.appendingPathComponent("\(kind).key").path] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            process.standardInput = Pipe()
            try process.run()
            addTeardownBlock { process.terminate(); process.waitUntilExit() }
            // It prints ACCEPT once listening, or exits if the port is taken.
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("ACCEPT") {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen += chunk
            }
            if String(decoding: seen, as: UTF8.self).contains("ACCEPT") { return port }
        }
        throw XCTSkip("no free port for s_server")
    }

    struct Session {
        var client: TLSClient
        var response: String
        var alert: TLSAlert?
    }

    /// Connects, does the handshake, sends a GET and reads the answer to the end.
    func fetch(port: UInt16, _ configuration: TLSClientConfiguration, time: UTCTime? = UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)))
        throws -> Session {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        XCTAssertTrue(connected)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        var session = Session(client: TLSClient(configuration: configuration, random: TLSServerTests.random, time: { time }), response: "")
        write(session.client.start())
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !session.client.isClosed && !session.client.peerClosed {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            let output = session.client.receive(Array(buffer[0..<count]))
            write(output.toSend)
            if output.handshakeCompleted { write(session.client.send(Array("GET / HTTP/1.0\r\n\r\n".utf8))) }
            received += output.received
            if let alert = output.alert { session.alert = alert }
        }
        session.response = String(decoding: received, as: UTF8.self)
        return session
    }

    func configuration(_ folder: URL, host: String = "www.example.test", alpn: [String] = []) throws -> TLSClientConfiguration {
        let pem = try [UInt8](Data(contentsOf: folder.appendingPathComponent("ca.pem")))
        return TLSClientConfiguration(trustStore: try XCTUnwrap(X509TrustStore.bundle(pem: pem)).store, serverName: host, applicationProtocols: alpn)
    }

    func testFetchesFromOpenSSLWithEachKeyAndSuite() throws {
        let folder = try makeCertificates()
        for kind in ["ed25519", "p256", "p384", "rsa", "p256-under-p384"] {
            for suite in ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"] {
                let port = try sServer(folder, kind: kind, ["-ciphersuites", suite])
                let session = try fetch(port: port, try configuration(folder))
                XCTAssertNil(session.client.certificateFailure)
                XCTAssertTrue(session.response.hasPrefix("HTTP/1.0 200 ok"), "\(kind) \(suite): \(session.response.prefix(200))")
                XCTAssertTrue(session.response.contains(suite.replacingOccurrences(of: "TLS_", with: "")) || session.response.contains(suite),
                              "\(kind) \(suite): s_server's page names the suite")
            }
        }
    }

    /// A server that takes only P-256 answers the X25519 share with a
    /// HelloRetryRequest; ALPN takes the server's choice.
    func testHelloRetryRequestAndALPN() throws {
        let folder = try makeCertificates()
        let port = try sServer(folder, kind: "p256", ["-groups", "P-256", "-alpn", "http/1.1"])
        let session = try fetch(port: port, try configuration(folder, alpn: ["h2", "http/1.1"]))
        XCTAssertTrue(session.response.hasPrefix("HTTP/1.0 200 ok"), session.response)
        XCTAssertTrue(session.client.retried)
        XCTAssertEqual(session.client.applicationProtocol, "http/1.1")
    }

    /// Resumption against OpenSSL: the ticket s_server sends after a full
    /// handshake becomes the client's session, and a later connection that
    /// offers it resumes (s_server's page says "Reused"; no certificate
    /// comes), through a HelloRetryRequest too. A session is not offered for
    /// another server name (whose certificate is then checked, and fails),
    /// nor past its lifetime (s_server's tickets: 2 hours).
    func testResumesASessionFromOpenSSLsTicket() throws {
        let folder = try makeCertificates()
        for arguments in [[], ["-groups", "P-256"]] {
            let port = try sServer(folder, kind: "p256", arguments)
            let first = try fetch(port: port, try configuration(folder))
            XCTAssert(first.response.contains("New, TLSv1.3") && !first.client.resumed, first.response)
            var resuming = try configuration(folder)
            resuming.session = try XCTUnwrap(first.client.session, "no ticket kept")
            let second = try fetch(port: port, resuming)
            XCTAssert(second.client.resumed && second.response.contains("Reused, TLSv1.3"), "\(arguments): \(second.response)")
            XCTAssertEqual(second.client.retried, !arguments.isEmpty)
            XCTAssertNotNil(second.client.session, "a new ticket for the resumed session")

            var elsewhere = try configuration(folder, host: "other.example.test")
            elsewhere.session = resuming.session
            let other = try fetch(port: port, elsewhere)
            XCTAssertFalse(other.client.resumed)
            XCTAssertEqual(other.client.certificateFailure, .nameMismatch(host: "other.example.test", names: ["www.example.test"]))

            let late = try fetch(port: port, resuming, time: UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970) + 7300))
            XCTAssert(!late.client.resumed && late.response.contains("New, TLSv1.3"), late.response)
        }
    }

    func testAWrongCertificateIsRefusedWithItsReason() throws {
        let folder = try makeCertificates()
        let port = try sServer(folder, kind: "ed25519")
        let cases: [(String, UTCTime?, X509Error, TLSAlert)] = [
            ("other.example.test", UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)),
             .nameMismatch(host: "other.example.test", names: ["www.example.test"]), .certificateUnknown),
            ("www.example.test", nil, .noTrustedTime, .certificateUnknown),
        ]
        for (host, time, failure, alert) in cases {
            let session = try fetch(port: port, try configuration(folder, host: host), time: time)
            XCTAssertEqual(session.client.certificateFailure, failure)
            XCTAssertEqual(session.alert, alert)
            XCTAssertEqual(session.response, "")
        }
        let late = try fetch(port: port, try configuration(folder), time: UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970) + 40 * 86_400))
        guard case .expired(name: "ed25519", _) = late.client.certificateFailure else { return XCTFail("\(String(describing: late.client.certificateFailure))") }
        XCTAssertEqual(late.alert, .certificateExpired)
        // Trusting only the system's roots: this CA is unknown.
        let system = X509TrustStore.bundle(pem: [UInt8](FileManager.default.contents(atPath: "/etc/ssl/certs/ca-certificates.crt") ?? Data()))?.store
        let stranger = try fetch(port: port, TLSClientConfiguration(trustStore: try XCTUnwrap(system), serverName: "www.example.test"))
        XCTAssertEqual(stranger.client.certificateFailure, .unknownIssuer(name: "ed25519"))
        XCTAssertEqual(stranger.alert, .unknownCA)
    }
}
