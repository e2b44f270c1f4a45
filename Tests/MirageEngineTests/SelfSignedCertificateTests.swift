@testable import Boot
import Foundation
@testable import MirageEngine
import XCTest

/// `mirage-config tls self-signed`: what swift-certificates makes, checked by
/// OpenSSL (as curl will) and by the unikernel's own PEM, key and X.509 code;
/// and the names, days and files a person may get wrong.
final class SelfSignedCertificateTests: XCTestCase {
    func testEachKindVerifiesWithOpenSSLAndTheUnikernelsX509() throws {
        for kind in SelfSignedCertificate.KeyKind.allCases {
            let folder = try Fixtures.temporaryFolder()
            let made = try SelfSignedCertificate(names: ["localhost", "*.example.test", "127.0.0.1", "::1"], kind: kind, days: 2)
            let files = try made.write(to: folder)
            for check in [["-verify_hostname", "localhost"], ["-verify_hostname", "www.example.test"], ["-verify_ip", "127.0.0.1"], ["-verify_ip", "::1"]] {
                let verified = try Fixtures.run("openssl", ["verify", "-purpose", "sslserver", "-CAfile", files[0].path] + check + [files[0].path])
                XCTAssertEqual(verified.status, 0, "\(kind) \(check): \(verified.error)")
            }
            XCTAssertNotEqual(try Fixtures.run("openssl", ["verify", "-CAfile", files[0].path, "-verify_hostname", "other.test", files[0].path]).status, 0)
            let mode = try FileManager.default.attributesOfItem(atPath: files[1].path)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, "the key is its owner's alone")

            // The unikernel reads both as tlsServer does, and trusts the certificate for its names, for two days.
            let der = try XCTUnwrap(PEM.blocks("CERTIFICATE", in: Array(made.certificatePEM.utf8))?.first)
            let key = try XCTUnwrap(PEM.blocks("PRIVATE KEY", in: Array(made.privateKeyPEM.utf8))?.first)
            let certificate = try XCTUnwrap(X509Certificate(der: der))
            switch kind {
            case .ed25519:
                let scalar = try XCTUnwrap(PEM.ed25519PrivateKey(pkcs8: key))
                XCTAssertEqual(certificate.publicKey, .ed25519(Ed25519.publicKey(privateKey: scalar)))
            case .p256:
                let scalar = try XCTUnwrap(PEM.p256PrivateKey(pkcs8: key))
                XCTAssertEqual(certificate.publicKey, .ecdsaP256(P256.publicKey(privateKey: scalar)))
            }
            let store = X509TrustStore(anchors: [certificate])
            let now = UTCTime(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
            for host in ["localhost", "www.example.test", "127.0.0.1"] {
                if case .failure(let error) = store.validate(chain: [der], host: host, at: now) { XCTFail("\(kind) \(host): \(error)") }
            }
            let later = UTCTime(secondsSinceEpoch: now.secondsSinceEpoch + 3 * 86400)
            guard case .failure = store.validate(chain: [der], host: "localhost", at: later) else { return XCTFail("valid after its days") }
        }
    }

    func testNamesDaysAndKindsAreCheckedFirst() {
        for name in ["bad_name", "-a.test", "a..test", "a.test.", "*.test", "www.*.test", "é.test", "", String(repeating: "a", count: 64) + ".test"] {
            XCTAssertThrowsError(try SelfSignedCertificate(names: [name], kind: .ed25519, days: 1), name) {
                XCTAssert("\($0)".contains("is not a host name or an IP address"), "\($0)")
            }
        }
        XCTAssertThrowsError(try SelfSignedCertificate(names: [], kind: .ed25519, days: 1))
        for days in [0, SelfSignedCertificate.maximumDays + 1] {
            XCTAssertThrowsError(try SelfSignedCertificate(names: ["localhost"], kind: .ed25519, days: days)) {
                XCTAssert("\($0)".contains("--days \(days) is out of range"), "\($0)")
            }
        }
    }

    /// A key in the folder may be in use: nothing is overwritten, and the tool says so.
    func testTheToolNeverOverwritesAKey() throws {
        try requireSystemTests()
        let folder = try Fixtures.temporaryFolder()
        try Data("in use".utf8).write(to: folder.appendingPathComponent("server.key"))
        let (status, output) = try ToolRun.run(["tls", "self-signed", "--name", "localhost", "-o", folder.path])
        XCTAssertEqual(status, 1, output)
        XCTAssert(output.contains("server.key exists; nothing was written"), output)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("server.key"), encoding: .utf8), "in use")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("server.pem").path))
        let (kindStatus, kindOutput) = try ToolRun.run(["tls", "self-signed", "--name", "localhost", "--key", "rsa", "-o", folder.path])
        XCTAssertEqual(kindStatus, 1)
        XCTAssert(kindOutput.contains("--key rsa is not a key kind") && kindOutput.contains("ed25519 or p-256"), kindOutput)
    }
}
