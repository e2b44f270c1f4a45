@testable import Boot
import Foundation
import XCTest

/// Certificates and chains made by openssl (a root, an intermediate and
/// leaves, with every key kind and signature algorithm the library takes),
/// validated here; each way a chain can be wrong is refused with its reason.
final class X509Tests: XCTestCase {
    /// A folder of certificates that `script` (sh, with openssl) made there.
    func make(_ script: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("x509-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let result = try HostReference.run("/bin/sh", ["-euc", "cd \"$0\"\n" + script, folder.path], withErrors: true)
        XCTAssertEqual(result.status, 0, String(decoding: result.output, as: UTF8.self))
        return folder
    }

    func der(_ folder: URL, _ name: String) throws -> [UInt8] {
        let pem = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
        return try XCTUnwrap(PEM.blocks("CERTIFICATE", in: pem)?.first, name)
    }

    /// openssl's configuration sections for each kind of certificate.
    static let extensions = """
        cat > ext.cnf <<'EOF'
        [root]
        basicConstraints = critical, CA:true
        keyUsage = critical, keyCertSign, cRLSign
        [intermediate]
        basicConstraints = critical, CA:true, pathlen:0
        keyUsage = critical, keyCertSign, digitalSignature
        [leaf]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:www.example.test, DNS:*.api.example.test, IP:10.0.2.2
        [client-only]
        extendedKeyUsage = clientAuth
        subjectAltName = DNS:www.example.test
        [not-a-ca]
        basicConstraints = critical, CA:false
        [odd-critical]
        subjectAltName = DNS:www.example.test
        1.2.3.4 = critical, DER:05:00
        [name-constraints]
        basicConstraints = critical, CA:true
        nameConstraints = critical, permitted;DNS:example.test
        EOF
        """

    /// root (RSA 2048, self-signed) -> intermediate (P-256, signed with
    /// RSA-PSS) -> leaves: Ed25519 (signed ecdsa-with-SHA256), P-256
    /// (ecdsa-with-SHA384), RSA 3072.
    func makeHierarchy() throws -> URL {
        try make(X509Tests.extensions + """

            # openssl.cnf's v3_ca: basicConstraints critical CA:true, key identifiers.
            openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -subj "/CN=Test Root" -days 3650 2>/dev/null
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key -out inter.csr -subj "/CN=Test Intermediate" 2>/dev/null
            openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -out inter.pem -days 1000 \
                -extfile ext.cnf -extensions intermediate -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 2>/dev/null
            sign() { # name keyargs section digest
                openssl req -new $2 -nodes -keyout $1.key -out $1.csr -subj /CN=$1 2>/dev/null
                openssl x509 -req -in $1.csr -CA inter.pem -CAkey inter.key -CAcreateserial -out $1.pem -days 90 \
                    -extfile ext.cnf -extensions $3 $4 2>/dev/null
            }
            sign ed25519 "-newkey ed25519" leaf -sha256
            sign p256 "-newkey ec -pkeyopt ec_paramgen_curve:P-256" leaf -sha384
            sign rsa "-newkey rsa:3072" leaf -sha256
            sign client "-newkey ed25519" client-only -sha256
            sign odd "-newkey ed25519" odd-critical -sha256
            # A leaf signed by a certificate that is no CA.
            openssl req -new -newkey ed25519 -nodes -keyout fake.key -out fake.csr -subj /CN=fake 2>/dev/null
            openssl x509 -req -in fake.csr -CA ed25519.pem -CAkey ed25519.key -CAcreateserial -out fake.pem -days 90 \
                -extfile ext.cnf -extensions leaf 2>/dev/null
            # An intermediate under it: the intermediate's pathlen 0 forbids it.
            openssl req -new -newkey ed25519 -nodes -keyout deep.key -out deep.csr -subj /CN=Deep 2>/dev/null
            openssl x509 -req -in deep.csr -CA inter.pem -CAkey inter.key -CAcreateserial -out deep.pem -days 90 \
                -extfile ext.cnf -extensions root 2>/dev/null
            openssl req -new -newkey ed25519 -nodes -keyout under.key -out under.csr -subj /CN=under 2>/dev/null
            openssl x509 -req -in under.csr -CA deep.pem -CAkey deep.key -CAcreateserial -out under.pem -days 90 \
                -extfile ext.cnf -extensions leaf 2>/dev/null
            """)
    }

    func testAChainOfEveryKindOpenSSLMakesValidates() throws {
        let folder = try makeHierarchy()
        let root = try XCTUnwrap(X509Certificate(der: try der(folder, "root.pem")))
        let intermediate = try der(folder, "inter.pem")
        let store = X509TrustStore(anchors: [root])
        let parsedIntermediate = try XCTUnwrap(X509Certificate(der: intermediate))
        XCTAssertEqual(parsedIntermediate.pathLengthLimit, 0)
        XCTAssertTrue(parsedIntermediate.isCertificateAuthority)
        XCTAssertEqual(parsedIntermediate.signatureAlgorithm, .rsaPSS(.sha256, saltLength: 32))
        for name in ["ed25519", "p256", "rsa"] {
            let leaf = try der(folder, "\(name).pem")
            let parsed = try XCTUnwrap(X509Certificate(der: leaf), name)
            let now = UTCTime(secondsSinceEpoch: parsed.notBefore.secondsSinceEpoch + 86_400)
            for host in ["www.example.test", "WWW.Example.Test", "v1.api.example.test", "10.0.2.2"] {
                XCTAssertEqual(try store.validate(chain: [leaf, intermediate], host: host, at: now).get().der, leaf, "\(name) for \(host)")
            }
            // Wrong names: a wildcard covers one label, and only that.
            for host in ["example.test", "api.example.test", "a.b.api.example.test", "www.example.test.evil", "10.0.2.3", "wwww.example.test"] {
                XCTAssertEqual(store.validate(chain: [leaf, intermediate], host: host, at: now),
                               .failure(.nameMismatch(host: host, names: ["www.example.test", "*.api.example.test"])), "\(name) for \(host)")
            }
            // Dates, at the edges.
            XCTAssertNoThrow(try store.validate(chain: [leaf, intermediate], host: "www.example.test", at: parsed.notAfter).get())
            let later = UTCTime(secondsSinceEpoch: parsed.notAfter.secondsSinceEpoch + 1)
            XCTAssertEqual(store.validate(chain: [leaf, intermediate], host: "www.example.test", at: later),
                           .failure(.expired(name: name, notAfter: parsed.notAfter)))
            let earlier = UTCTime(secondsSinceEpoch: parsed.notBefore.secondsSinceEpoch - 1)
            XCTAssertEqual(store.validate(chain: [leaf, intermediate], host: "www.example.test", at: earlier),
                           .failure(.notYetValid(name: name, notBefore: parsed.notBefore)))
            XCTAssertEqual(store.validate(chain: [leaf, intermediate], host: "www.example.test", at: nil), .failure(.noTrustedTime))
            // Without the intermediate, or trusting another root.
            XCTAssertEqual(store.validate(chain: [leaf], host: "www.example.test", at: now), .failure(.unknownIssuer(name: name)))
            XCTAssertEqual(X509TrustStore(anchors: [parsed]).validate(chain: [try der(folder, "rsa.pem"), intermediate],
                                                                       host: "www.example.test", at: now),
                           name == "rsa" ? .success(try XCTUnwrap(X509Certificate(der: leaf))) : .failure(.unknownIssuer(name: "Test Intermediate")),
                           "a pinned leaf is trusted as itself, and only itself")
            // One changed bit of the signature.
            var forged = leaf
            forged[forged.count - 5] ^= 1
            XCTAssertEqual(store.validate(chain: [forged, intermediate], host: "www.example.test", at: now), .failure(.badSignature(name: name)))
        }
    }

    func testEachWrongChainIsRefusedWithItsReason() throws {
        let folder = try makeHierarchy()
        let store = X509TrustStore(anchors: [try XCTUnwrap(X509Certificate(der: try der(folder, "root.pem")))])
        let intermediate = try der(folder, "inter.pem")
        let now = try XCTUnwrap(X509Certificate(der: intermediate)).notBefore
        func validate(_ names: [String], host: String = "www.example.test") throws -> Result<X509Certificate, X509Error> {
            store.validate(chain: try names.map { try der(folder, $0) }, host: host, at: UTCTime(secondsSinceEpoch: now.secondsSinceEpoch + 60))
        }
        XCTAssertEqual(try validate(["client.pem", "inter.pem"]), .failure(.wrongKeyUsage(name: "client")))
        XCTAssertEqual(try validate(["odd.pem", "inter.pem"]), .failure(.unknownCriticalExtension(name: "odd")))
        XCTAssertEqual(try validate(["fake.pem", "ed25519.pem", "inter.pem"]), .failure(.notACertificateAuthority(name: "ed25519")))
        XCTAssertEqual(try validate(["under.pem", "deep.pem", "inter.pem"]), .failure(.pathTooLong(name: "Test Intermediate")))
        XCTAssertEqual(try validate(["ed25519.pem", "inter.pem", "root.pem"]).map(\.commonName), .success("ed25519"),
                       "a chain that also sends its root")
        XCTAssertEqual(try validate(["ed25519.pem", "ed25519.pem"]), .failure(.unknownIssuer(name: "ed25519")))
        XCTAssertEqual(store.validate(chain: [[0x30, 0x00]], host: "x", at: now), .failure(.malformed(position: 0)))
        XCTAssertEqual(store.validate(chain: [], host: "x", at: now), .failure(.malformed(position: 0)))
    }

    /// Every byte of a certificate changed, one at a time: it parses or not,
    /// never traps, and a changed certificate never validates.
    func testEveryChangedByteOfACertificateIsSafe() throws {
        let folder = try makeHierarchy()
        let store = X509TrustStore(anchors: [try XCTUnwrap(X509Certificate(der: try der(folder, "root.pem")))])
        let leaf = try der(folder, "p256.pem"), intermediate = try der(folder, "inter.pem")
        let now = try XCTUnwrap(X509Certificate(der: leaf)).notBefore
        var accepted = 0
        for index in leaf.indices {
            var changed = leaf
            changed[index] ^= 0x41
            if case .success = store.validate(chain: [changed, intermediate], host: "www.example.test", at: now) { accepted += 1 }
        }
        XCTAssertEqual(accepted, 0)
        for length in 0..<leaf.count { XCTAssertNil(X509Certificate(der: Array(leaf.prefix(length)))) }
    }

    /// Debian's own bundle of the web's roots parses whole: SHA-1
    /// self-signatures are kept as unsupported, not refused. Each root with a
    /// P-384 key that signs itself with ECDSA (ISRG Root X2 among them) is
    /// real-world input for P-384: its self-signature verifies, and fails
    /// with a byte of the signed part changed.
    func testTheSystemsCABundleLoads() throws {
        let path = "/etc/ssl/certs/ca-certificates.crt"
        guard let data = FileManager.default.contents(atPath: path) else { throw XCTSkip("no \(path)") }
        let (store, skipped) = try XCTUnwrap(X509TrustStore.bundle(pem: [UInt8](data)))
        XCTAssertGreaterThan(store.anchors.count, 80)
        XCTAssertEqual(skipped, 0)
        XCTAssertTrue(store.anchors.contains { $0.commonName == "ISRG Root X1" })
        let x2 = try XCTUnwrap(store.anchors.first { $0.commonName == "ISRG Root X2" })
        guard case .ecdsaP384 = x2.publicKey else { return XCTFail("ISRG Root X2's P-384 key") }
        var checked = 0
        for root in store.anchors {
            guard case .ecdsaP384 = root.publicKey, case .ecdsa = root.signatureAlgorithm else { continue }
            XCTAssertTrue(root.signatureAlgorithm.isValid(root.signature, over: root.toBeSigned, key: root.publicKey), root.commonName)
            var changed = root.toBeSigned
            changed[changed.count / 2] ^= 1
            XCTAssertFalse(root.signatureAlgorithm.isValid(root.signature, over: changed, key: root.publicKey), root.commonName)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 15, "Debian's P-384 roots")
    }

    /// UTCTime's two-digit years: 50-99 are 19xx, 00-49 20xx (RFC 5280 4.1.2.5.1).
    func testUTCTimeYears() {
        func read(_ text: String, tag: UInt8) -> UTCTime? {
            var reader = DERReader([tag, UInt8(text.utf8.count)] + Array(text.utf8))
            return X509Certificate.time(&reader)
        }
        XCTAssertEqual(read("500101000000Z", tag: 0x17)?.iso8601, "1950-01-01T00:00:00Z")
        XCTAssertEqual(read("491231235959Z", tag: 0x17)?.iso8601, "2049-12-31T23:59:59Z")
        XCTAssertEqual(read("20500101000000Z", tag: 0x18)?.iso8601, "2050-01-01T00:00:00Z")
        XCTAssertNil(read("5001010000Z", tag: 0x17), "no seconds")
        XCTAssertNil(read("500101000000+0100", tag: 0x17))
        XCTAssertNil(read("20500101000000.5Z", tag: 0x18))
    }
}
