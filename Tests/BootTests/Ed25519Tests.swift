@testable import Boot
import XCTest

/// Ed25519 against RFC 8032, every Wycheproof vector and pyca/cryptography.
final class Ed25519Tests: XCTestCase {
    /// RFC 8032 section 7.1, tests 1 and 2: keys and signatures, both ways.
    func testRFC8032Vectors() {
        let cases = [
            ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
            ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ]
        for (privateKey, publicKey, message, signature) in cases {
            XCTAssertEqual(hex(Ed25519.publicKey(privateKey: bytes(hex: privateKey))), publicKey)
            XCTAssertEqual(hex(Ed25519.signature(for: bytes(hex: message), privateKey: bytes(hex: privateKey))), signature)
            XCTAssertTrue(Ed25519.isValidSignature(bytes(hex: signature), for: bytes(hex: message), publicKey: bytes(hex: publicKey)))
        }
    }

    /// Every Wycheproof vector: malleable S (at or above L), non-canonical and
    /// small-order points, truncated and extended signatures, changed bits.
    func testEveryWycheproofVector() throws {
        let tests = try Wycheproof.tests("Signature/wycheproof/ed25519_test.json")
        XCTAssertGreaterThan(tests.count, 200)
        for test in tests {
            let key = try XCTUnwrap((test.fields["publicKey"] as? [String: Any])?["pk"] as? String)
            XCTAssertEqual(Ed25519.isValidSignature(test.hex("sig"), for: test.hex("msg"), publicKey: bytes(hex: key)), test.valid, "test \(test.id)")
        }
    }

    /// Random keys and messages: OpenSSL (through pyca/cryptography) makes the
    /// same public keys and signatures (Ed25519 is deterministic), and each
    /// signature fails once any bit of it or of the message changes.
    func testRandomKeysMatchOpenSSL() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let cases = (0..<24).map { index in (key: random(32), message: random(index * 11)) }
        let script = """
            import sys
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            for line in sys.stdin.read().split("\\n"):
                if not line: continue
                key, message = (bytes.fromhex(x) for x in line.split(","))
                private = Ed25519PrivateKey.from_private_bytes(key)
                print(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex(), private.sign(message).hex())
            """
        let lines = try HostReference.python(script, lines: cases.map { "\(hex($0.key)),\(hex($0.message))" })
        XCTAssertEqual(lines.count, cases.count)
        for (test, line) in zip(cases, lines) {
            let publicKey = Ed25519.publicKey(privateKey: test.key)
            let signature = Ed25519.signature(for: test.message, privateKey: test.key)
            XCTAssertEqual("\(hex(publicKey)) \(hex(signature))", line, "key \(hex(test.key))")
            XCTAssertTrue(Ed25519.isValidSignature(signature, for: test.message, publicKey: publicKey))
            var changed = signature
            changed[Int.random(in: 0..<64, using: &generator)] ^= 1 << UInt8.random(in: 0...7, using: &generator)
            XCTAssertFalse(Ed25519.isValidSignature(changed, for: test.message, publicKey: publicKey))
            XCTAssertFalse(Ed25519.isValidSignature(signature, for: test.message + [0], publicKey: publicKey))
        }
    }

    /// Scalars modulo L: a 512-bit value and a product-plus-sum, against
    /// Python's integers; the largest inputs too.
    func testScalarReductionMatchesBigIntegers() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let cases = [([UInt8](repeating: 255, count: 64), [UInt8](repeating: 255, count: 32))] + (0..<200).map { _ in (random(64), random(32)) }
        let script = """
            import sys
            L = 2**252 + 27742317777372353535851937790883648493
            for line in sys.stdin.read().split():
                wide, small = (int.from_bytes(bytes.fromhex(x), "little") for x in line.split(","))
                print((wide % L).to_bytes(32, "little").hex(), ((small * small + wide) % L).to_bytes(32, "little").hex())
            """
        let lines = try HostReference.python(script, lines: cases.map { "\(hex($0.0)),\(hex($0.1))" }, needs: "sys")
        XCTAssertEqual(lines.count, cases.count)
        for ((wide, small), line) in zip(cases, lines) {
            let reducedWide = Scalar25519.reduce(wide)
            let ours = hex(reducedWide) + " " + hex(Scalar25519.multiplyAdd(small, small, reducedWide))
            XCTAssertEqual(ours, line)
        }
    }
}
