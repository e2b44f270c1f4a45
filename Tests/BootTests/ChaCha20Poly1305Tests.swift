import Boot
import XCTest

/// Poly1305 and the AEAD against RFC 8439 and every Wycheproof vector.
final class ChaCha20Poly1305Tests: XCTestCase {
    func testPoly1305MatchesRFC8439() {
        let key = bytes(hex: "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
        XCTAssertEqual(hex(Poly1305.authenticationCode(for: Array("Cryptographic Forum Research Group".utf8), key: key)),
                       "a8061dc1305136c6c22b8baf0c0127a9")
    }

    func testEveryWycheproofVector() throws {
        let tests = try Wycheproof.tests("Cipher/wycheproof/chacha20_poly1305_test.json")
        XCTAssertGreaterThan(tests.count, 300)
        for test in tests {
            let key = test.hex("key"), nonce = test.hex("iv"), aad = test.hex("aad")
            let message = test.hex("msg"), sealed = test.hex("ct") + test.hex("tag")
            let opened = ChaCha20Poly1305.open(sealed, key: key, nonce: nonce, additionalData: aad)
            if test.valid {
                XCTAssertEqual(opened, message, "test \(test.id)")
                XCTAssertEqual(ChaCha20Poly1305.seal(message, key: key, nonce: nonce, additionalData: aad), sealed, "test \(test.id)")
            } else {
                XCTAssertNil(opened, "test \(test.id) must be refused")
            }
        }
    }

    /// Every single-bit change to the ciphertext, the tag or the additional data is refused.
    func testAnyChangedBitIsRefused() {
        let key = (0..<32).map { UInt8($0) }, nonce = (0..<12).map { UInt8($0 * 3) }
        let aad = Array("header".utf8), message = Array("a record of TLS 1.3, ".utf8) + [UInt8](repeating: 7, count: 40)
        let sealed = ChaCha20Poly1305.seal(message, key: key, nonce: nonce, additionalData: aad)
        XCTAssertEqual(ChaCha20Poly1305.open(sealed, key: key, nonce: nonce, additionalData: aad), message)
        for bit in 0..<(sealed.count * 8) {
            var changed = sealed
            changed[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertNil(ChaCha20Poly1305.open(changed, key: key, nonce: nonce, additionalData: aad), "bit \(bit)")
        }
        for bit in 0..<(aad.count * 8) {
            var changed = aad
            changed[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertNil(ChaCha20Poly1305.open(sealed, key: key, nonce: nonce, additionalData: changed), "aad bit \(bit)")
        }
        XCTAssertNil(ChaCha20Poly1305.open(Array(sealed.prefix(15)), key: key, nonce: nonce, additionalData: aad))
        XCTAssertNil(ChaCha20Poly1305.open(sealed, key: key, nonce: Array(nonce.prefix(8)), additionalData: aad))
    }
}
