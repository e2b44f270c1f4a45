@testable import Boot
import XCTest

/// P-384 ECDSA verification against every Wycheproof vector for SHA-384,
/// SHA-256 and SHA-512 (the leftmost 384 bits of a longer digest).
final class P384Tests: XCTestCase {
    func testEveryWycheproofECDSAVector() throws {
        for (file, hash) in [("ecdsa_secp384r1_sha384_test.json", { SHA384.hash($0) }), ("ecdsa_secp384r1_sha256_test.json", { SHA256.hash($0) }),
                             ("ecdsa_secp384r1_sha512_test.json", { SHA512.hash($0) })] as [(String, ([UInt8]) -> [UInt8])] {
            let tests = try Wycheproof.tests("Signature/wycheproof/" + file)
            XCTAssertGreaterThan(tests.count, 300, file)
            for test in tests {
                let key = try XCTUnwrap((test.fields["publicKey"] as? [String: Any])?["uncompressed"] as? String)
                XCTAssertEqual(ECDSAP384.isValidSignature(test.hex("sig"), digest: hash(test.hex("msg")), publicKey: bytes(hex: key)), test.valid,
                               "\(file) test \(test.id): \(test.fields["comment"] ?? "")")
            }
        }
    }
}
