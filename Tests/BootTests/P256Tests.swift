@testable import Boot
import XCTest

/// P-256's ECDH and ECDSA against RFC 6979, every Wycheproof vector and pyca/cryptography.
final class P256Tests: XCTestCase {
    /// A Wycheproof scalar (hex, possibly with a leading zero byte or short) as 32 bytes.
    func scalar(_ hexText: String) -> [UInt8] {
        let value = Array(bytes(hex: hexText).drop { $0 == 0 })
        return [UInt8](repeating: 0, count: max(0, 32 - value.count)) + value
    }

    /// RFC 6979 appendix A.2.5: P-256 with SHA-256, the message "sample".
    func testRFC6979Vector() {
        let key = bytes(hex: "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
        let signature = ECDSAP256.signature(for: Array("sample".utf8), privateKey: key)
        XCTAssertEqual(hex(signature), hex(ECDSAP256.der(
            r: bytes(hex: "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"),
            s: bytes(hex: "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"))))
        XCTAssertEqual(hex(P256.publicKey(privateKey: key)), "04" + "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                       + "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299")
        XCTAssertTrue(ECDSAP256.isValidSignature(signature, for: Array("sample".utf8), publicKey: P256.publicKey(privateKey: key)))
    }

    /// Every Wycheproof vector; compressed points, which Wycheproof finds
    /// acceptable, are refused, as TLS 1.3 takes only uncompressed ones.
    func testEveryWycheproofECDHVector() throws {
        let tests = try Wycheproof.tests("Protocol/wycheproof/ecdh_secp256r1_ecpoint_test.json")
        XCTAssertGreaterThan(tests.count, 300)
        for test in tests {
            let shared = P256.sharedSecret(privateKey: scalar(test.fields["private"] as? String ?? ""), peerPublicKey: test.hex("public"))
            let compressed = (test.fields["flags"] as? [String] ?? []).contains("CompressedPublic")
            if test.valid && !compressed {
                XCTAssertEqual(shared.map(hex), hex(test.hex("shared")), "test \(test.id)")
            } else {
                XCTAssertNil(shared, "test \(test.id) must be refused")
            }
        }
    }

    func testEveryWycheproofECDSAVector() throws {
        let tests = try Wycheproof.tests("Signature/wycheproof/ecdsa_secp256r1_sha256_test.json")
        XCTAssertGreaterThan(tests.count, 400)
        for test in tests {
            let key = try XCTUnwrap((test.fields["publicKey"] as? [String: Any])?["uncompressed"] as? String)
            XCTAssertEqual(ECDSAP256.isValidSignature(test.hex("sig"), for: test.hex("msg"), publicKey: bytes(hex: key)), test.valid,
                           "test \(test.id): \(test.fields["comment"] ?? "")")
        }
    }

    /// Random keys: OpenSSL (pyca/cryptography) verifies our signatures, we
    /// verify its, and both sides of ECDH agree.
    func testRandomKeysAgreeWithOpenSSL() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        var cases: [(key: [UInt8], peer: [UInt8], message: [UInt8])] = []
        while cases.count < 16 {
            let key = random(32), peer = random(32)
            if P256.isValidPrivateKey(key) && P256.isValidPrivateKey(peer) { cases.append((key, peer, random(cases.count * 7))) }
        }
        let script = """
            import sys
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            for line in sys.stdin.read().split("\\n"):
                if not line: continue
                key, peer, message, ours = (bytes.fromhex(x) for x in line.split(","))
                a = ec.derive_private_key(int.from_bytes(key, "big"), ec.SECP256R1())
                b = ec.derive_private_key(int.from_bytes(peer, "big"), ec.SECP256R1())
                public = a.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
                try:
                    a.public_key().verify(ours, message, ec.ECDSA(hashes.SHA256())); verified = "ok"
                except Exception:
                    verified = "bad"
                print(public.hex(), a.exchange(ec.ECDH(), b.public_key()).hex(), verified, a.sign(message, ec.ECDSA(hashes.SHA256())).hex())
            """
        let signatures = cases.map { ECDSAP256.signature(for: $0.message, privateKey: $0.key) }
        let lines = try HostReference.python(script, lines: zip(cases, signatures).map { [$0.0.key, $0.0.peer, $0.0.message, $0.1].map(hex).joined(separator: ",") })
        XCTAssertEqual(lines.count, cases.count)
        for (test, line) in zip(cases, lines) {
            let fields = line.split(separator: " ").map(String.init)
            XCTAssertEqual(fields.count, 4)
            let publicKey = P256.publicKey(privateKey: test.key)
            XCTAssertEqual(hex(publicKey), fields[0])
            XCTAssertEqual(P256.sharedSecret(privateKey: test.peer, peerPublicKey: publicKey).map(hex), fields[1])
            XCTAssertEqual(fields[2], "ok", "OpenSSL refused our signature")
            XCTAssertTrue(ECDSAP256.isValidSignature(bytes(hex: fields[3]), for: test.message, publicKey: publicKey), "OpenSSL's signature")
            XCTAssertFalse(ECDSAP256.isValidSignature(bytes(hex: fields[3]), for: test.message + [1], publicKey: publicKey))
        }
    }
}
