@testable import Boot
import XCTest

/// AES and AES-GCM against FIPS 197, every Wycheproof vector and pyca/cryptography.
final class AESGCMTests: XCTestCase {
    /// The bit-sliced S-box on all 256 bytes equals FIPS 197's definition,
    /// computed here the slow way: the inverse by search, then the affine map.
    func testSubstitutionMatchesTheDefinition() {
        func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
            var a = a, b = b, product: UInt8 = 0
            while b != 0 {
                if b & 1 == 1 { product ^= a }
                a = a << 1 ^ (a & 0x80 != 0 ? 0x1b : 0)
                b >>= 1
            }
            return product
        }
        for value in 0...255 {
            let byte = UInt8(value)
            let inverse = byte == 0 ? 0 : (1...255).map(UInt8.init).first { multiply(byte, $0) == 1 }!
            func rotate(_ x: UInt8, _ n: UInt8) -> UInt8 { x << n | x >> (8 - n) }
            let expected = inverse ^ rotate(inverse, 1) ^ rotate(inverse, 2) ^ rotate(inverse, 3) ^ rotate(inverse, 4) ^ 0x63
            XCTAssertEqual(AES.substitute(word: UInt32(byte) << 16), 0x6300_6363 | UInt32(expected) << 16, "byte \(value)")
        }
    }

    /// FIPS 197 appendix C: one block under 128-, 192- and 256-bit keys.
    func testFIPS197Examples() {
        let plaintext = bytes(hex: "00112233445566778899aabbccddeeff")
        let key = (0..<32).map { UInt8($0) }
        XCTAssertEqual(hex(AES(key: Array(key.prefix(16))).encrypt(block: plaintext)), "69c4e0d86a7b0430d8cdb78070b4c55a")
        XCTAssertEqual(hex(AES(key: Array(key.prefix(24))).encrypt(block: plaintext)), "dda97ca4864cdfe06eaf70a0ec0d7191")
        XCTAssertEqual(hex(AES(key: key).encrypt(block: plaintext)), "8ea2b7ca516745bfeafc49904b496089")
    }

    func testEveryWycheproofVector() throws {
        let tests = try Wycheproof.tests("Cipher/wycheproof/aes_gcm_test.json")
        XCTAssertGreaterThan(tests.count, 250)
        for test in tests {
            let nonce = test.hex("iv"), aad = test.hex("aad"), message = test.hex("msg")
            let sealed = test.hex("ct") + test.hex("tag")
            if nonce.isEmpty {
                XCTAssertFalse(test.valid, "test \(test.id)")
                continue
            }
            let aead = AESGCM(key: test.hex("key"))
            let opened = aead.open(sealed, nonce: nonce, additionalData: aad)
            if test.valid {
                XCTAssertEqual(opened, message, "test \(test.id)")
                XCTAssertEqual(aead.seal(message, nonce: nonce, additionalData: aad), sealed, "test \(test.id)")
            } else {
                XCTAssertNil(opened, "test \(test.id) must be refused")
            }
        }
    }

    /// Random keys of both TLS sizes, nonces, additional data and messages of
    /// every length around the block and pair sizes, sealed by OpenSSL.
    func testRandomInputsMatchOpenSSL() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let cases = (Array(0...70) + [255, 256, 1000]).map { length in
            (key: random(length % 2 == 0 ? 16 : 32), nonce: random(12), aad: random(length % 23), message: random(length))
        }
        let script = """
            import sys
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            for line in sys.stdin.read().split("\\n"):
                if not line: continue
                key, nonce, aad, message = (bytes.fromhex(x) for x in line.split(","))
                print(AESGCM(key).encrypt(nonce, message, aad).hex())
            """
        let lines = try HostReference.python(script, lines: cases.map { [$0.key, $0.nonce, $0.aad, $0.message].map(hex).joined(separator: ",") })
        XCTAssertEqual(lines.count, cases.count)
        for (test, line) in zip(cases, lines) {
            let aead = AESGCM(key: test.key)
            XCTAssertEqual(hex(aead.seal(test.message, nonce: test.nonce, additionalData: test.aad)), line, "\(test.message.count) bytes")
            XCTAssertEqual(aead.open(bytes(hex: line), nonce: test.nonce, additionalData: test.aad), test.message)
        }
    }

    /// Every single-bit change to the ciphertext, the tag or the additional data is refused.
    func testAnyChangedBitIsRefused() {
        let aead = AESGCM(key: (0..<16).map { UInt8($0) }), nonce = (0..<12).map { UInt8($0 * 5) }
        let aad = Array("header".utf8), message = Array("a record of TLS 1.3, ".utf8) + [UInt8](repeating: 9, count: 30)
        let sealed = aead.seal(message, nonce: nonce, additionalData: aad)
        XCTAssertEqual(aead.open(sealed, nonce: nonce, additionalData: aad), message)
        for bit in 0..<(sealed.count * 8) {
            var changed = sealed
            changed[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertNil(aead.open(changed, nonce: nonce, additionalData: aad), "bit \(bit)")
        }
        for bit in 0..<(aad.count * 8) {
            var changed = aad
            changed[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertNil(aead.open(sealed, nonce: nonce, additionalData: changed), "aad bit \(bit)")
        }
        XCTAssertNil(aead.open(Array(sealed.prefix(15)), nonce: nonce, additionalData: aad))
    }
}
