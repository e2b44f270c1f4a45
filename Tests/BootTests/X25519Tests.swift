import Boot
import XCTest

/// X25519 against RFC 7748, every Wycheproof vector and pyca/cryptography.
final class X25519Tests: XCTestCase {
    /// RFC 7748 section 5.2's two single vectors.
    /// Public keys come from Edwards25519's table and the birational map;
    /// the ladder from the base point's u = 9 must give the same.
    func testPublicKeysAgreeWithTheLadder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<64 {
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            XCTAssertEqual(X25519.publicKey(privateKey: key), X25519.scalarMultiply(scalar: key, uCoordinate: [9] + [UInt8](repeating: 0, count: 31)))
        }
    }

    func testRFC7748Vectors() {
        XCTAssertEqual(hex(X25519.scalarMultiply(
            scalar: bytes(hex: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            uCoordinate: bytes(hex: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
        XCTAssertEqual(hex(X25519.scalarMultiply(
            scalar: bytes(hex: "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
            uCoordinate: bytes(hex: "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"))),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")
    }

    /// RFC 7748 section 5.2's iteration: k and u both start as the base
    /// point; each round, (k, u) = (X25519(k, u), k). After 1 and 1000 rounds.
    func testRFC7748Iterations() {
        var k = [9] + [UInt8](repeating: 0, count: 31), u = k
        for round in 1...1000 {
            (k, u) = (X25519.scalarMultiply(scalar: k, uCoordinate: u), k)
            if round == 1 { XCTAssertEqual(hex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079") }
        }
        XCTAssertEqual(hex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    }

    /// RFC 7748 section 6.1: Alice's and Bob's keys and their shared secret.
    func testRFC7748DiffieHellman() {
        let alice = bytes(hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        let bob = bytes(hex: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        let alicePublic = X25519.publicKey(privateKey: alice), bobPublic = X25519.publicKey(privateKey: bob)
        XCTAssertEqual(hex(alicePublic), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        XCTAssertEqual(hex(bobPublic), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        XCTAssertEqual(X25519.sharedSecret(privateKey: alice, peerPublicKey: bobPublic).map(hex), shared)
        XCTAssertEqual(X25519.sharedSecret(privateKey: bob, peerPublicKey: alicePublic).map(hex), shared)
    }

    /// Every Wycheproof vector: low-order and twist points, non-canonical
    /// coordinates, edge-case scalars. A shared secret of zeros is refused.
    func testEveryWycheproofVector() throws {
        let tests = try Wycheproof.tests("Protocol/wycheproof/x25519_test.json")
        XCTAssertGreaterThan(tests.count, 500)
        var zeros = 0
        for test in tests {
            let scalar = test.hex("private"), point = test.hex("public"), shared = test.hex("shared")
            XCTAssertEqual(hex(X25519.scalarMultiply(scalar: scalar, uCoordinate: point)), hex(shared), "test \(test.id)")
            if shared.allSatisfy({ $0 == 0 }) {
                zeros += 1
                XCTAssertNil(X25519.sharedSecret(privateKey: scalar, peerPublicKey: point), "test \(test.id)")
            } else {
                XCTAssertEqual(X25519.sharedSecret(privateKey: scalar, peerPublicKey: point), shared, "test \(test.id)")
            }
        }
        XCTAssertGreaterThan(zeros, 0)
    }

    /// Random key pairs: the public keys and the shared secret as OpenSSL
    /// computes them through pyca/cryptography.
    func testRandomKeysMatchOpenSSL() throws {
        var generator = SystemRandomNumberGenerator()
        let pairs = (0..<64).map { _ in
            ((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) },
             (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        let script = """
            import sys
            from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            for line in sys.stdin.read().split():
                a, b = (X25519PrivateKey.from_private_bytes(bytes.fromhex(x)) for x in line.split(","))
                public = a.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                print(public.hex(), a.exchange(b.public_key()).hex())
            """
        let lines = try HostReference.python(script, lines: pairs.map { "\(hex($0.0)),\(hex($0.1))" })
        XCTAssertEqual(lines.count, pairs.count)
        for ((a, b), line) in zip(pairs, lines) {
            let ours = hex(X25519.publicKey(privateKey: a)) + " "
                + (X25519.sharedSecret(privateKey: a, peerPublicKey: X25519.publicKey(privateKey: b)).map(hex) ?? "zero")
            XCTAssertEqual(ours, line, "private keys \(hex(a)), \(hex(b))")
        }
    }
}
