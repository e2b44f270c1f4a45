@testable import Boot
import Foundation
import XCTest

/// RSA signature verification against every Wycheproof vector for the key
/// sizes (2048-4096) and hashes (SHA-256/384/512) it supports, the keys read
/// through X.509's SubjectPublicKeyInfo parser.
final class RSATests: XCTestCase {
    func key(_ test: Wycheproof.Test) throws -> RSAPublicKey {
        var outer = DERReader(test.hex("publicKeyDer"))
        var info = try XCTUnwrap(outer.element(tag: 0x30))
        guard case .rsa(let key) = try XCTUnwrap(X509PublicKey(&info), "test \(test.id)") else { throw XCTSkip("not an RSA key") }
        return key
    }

    func hash(_ name: String) throws -> RSAHash {
        switch name {
        case "SHA-256": return .sha256
        case "SHA-384": return .sha384
        case "SHA-512": return .sha512
        default: throw XCTSkip("hash \(name)")
        }
    }

    func testPKCS1v15AgainstWycheproof() throws {
        var checked = 0
        for size in [2048, 3072, 4096] {
            for digest in ["sha256", "sha384", "sha512"] {
                for test in try Wycheproof.tests("Signature/wycheproof/rsa_signature_\(size)_\(digest)_test.json") {
                    let publicKey = try key(test)
                    let valid = RSA.isValidPKCS1Signature(test.hex("sig"), for: test.hex("msg"), hash: try hash(test.fields["sha"] as! String),
                                                          publicKey: publicKey)
                    // "acceptable" here is a signature with a missing NULL parameter: refused, as RFC 8017 encodes it.
                    let result = test.fields["result"] as? String
                    if result == "acceptable" { XCTAssertFalse(valid, "\(size) \(digest) test \(test.id)") } else {
                        XCTAssertEqual(valid, test.valid, "\(size) \(digest) test \(test.id)")
                    }
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 2000)
    }

    func testPSSAgainstWycheproof() throws {
        var checked = 0
        for file in ["2048_sha256_mgf1_0", "2048_sha256_mgf1_32", "2048_sha384_mgf1_48", "3072_sha256_mgf1_32", "4096_sha256_mgf1_32",
                     "4096_sha384_mgf1_48", "4096_sha512_mgf1_32", "4096_sha512_mgf1_64"] {
            for test in try Wycheproof.tests("Signature/wycheproof/rsa_pss_\(file)_test.json") {
                let valid = RSA.isValidPSSSignature(test.hex("sig"), for: test.hex("msg"), hash: try hash(test.fields["sha"] as! String),
                                                    saltLength: test.int("sLen"), publicKey: try key(test))
                XCTAssertEqual(valid, test.valid, "\(file) test \(test.id)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 500)
    }

    /// Keys outside 2048-4096 bits, even moduli and exponent 1 are refused.
    func testWeakKeysAreRefused() {
        let modulus = [UInt8](repeating: 0xC5, count: 256)
        XCTAssertNotNil(RSAPublicKey(modulus: modulus, exponent: [1, 0, 1]))
        XCTAssertNil(RSAPublicKey(modulus: Array(modulus.prefix(128)), exponent: [1, 0, 1]), "1024 bits")
        XCTAssertNil(RSAPublicKey(modulus: modulus + [UInt8](repeating: 0xC5, count: 257), exponent: [1, 0, 1]), "over 4096 bits")
        XCTAssertNil(RSAPublicKey(modulus: Array(modulus.dropLast()) + [0xC4], exponent: [1, 0, 1]), "even")
        XCTAssertNil(RSAPublicKey(modulus: modulus, exponent: [1]))
        XCTAssertNil(RSAPublicKey(modulus: modulus, exponent: [2]))
    }
}
