import Boot
import Foundation
import XCTest

func bytes(hex text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
}

/// SHA-256, SHA-384, HMAC and HKDF against the published vectors (FIPS
/// 180-4's examples, RFC 4231, RFC 5869, RFC 8448's key schedule) and
/// against Python's hashlib and hmac on random inputs.
final class SHA2Tests: XCTestCase {
    func testFIPS180Examples() {
        let abc = Array("abc".utf8)
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(hex(SHA256.hash(abc)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.hash(twoBlocks)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA384.hash(abc)),
                       "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
        XCTAssertEqual(hex(SHA384.hash([])),
                       "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")
        XCTAssertEqual(hex(SHA512.hash(abc)), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                       + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        // A million 'a's, fed in uneven pieces: the buffering across calls.
        var sha256 = SHA256(), sha384 = SHA384()
        let piece = [UInt8](repeating: 0x61, count: 1000)
        for index in 0..<1000 {
            sha256.update(piece[0..<(index % 7 == 0 ? 1 : 1000)])
            if index % 7 == 0 { sha256.update(piece[1...]) }
            sha384.update(piece)
        }
        XCTAssertEqual(hex(sha256.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        XCTAssertEqual(hex(sha384.finish()),
                       "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985")
    }

    func testHMACMatchesRFC4231() {
        // Test cases 1, 2 and 6 (a key longer than a block).
        let cases: [(key: [UInt8], data: [UInt8], sha256: String, sha384: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
             "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
             "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
             "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"),
        ]
        for test in cases {
            XCTAssertEqual(hex(HMAC<SHA256>.authenticationCode(for: test.data, key: test.key)), test.sha256)
            XCTAssertEqual(hex(HMAC<SHA384>.authenticationCode(for: test.data, key: test.key)), test.sha384)
        }
    }

    func testHKDFMatchesRFC5869() {
        // Test case 1.
        let prk = HKDF<SHA256>.extract(salt: bytes(hex: "000102030405060708090a0b0c"), inputKey: [UInt8](repeating: 0x0b, count: 22))
        XCTAssertEqual(hex(prk), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        XCTAssertEqual(hex(HKDF<SHA256>.expand(pseudorandomKey: prk, info: bytes(hex: "f0f1f2f3f4f5f6f7f8f9"), length: 42)),
                       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        // Test case 3: no salt, no info.
        let prk3 = HKDF<SHA256>.extract(salt: [], inputKey: [UInt8](repeating: 0x0b, count: 22))
        XCTAssertEqual(hex(prk3), "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04")
        XCTAssertEqual(hex(HKDF<SHA256>.expand(pseudorandomKey: prk3, info: [], length: 42)),
                       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    /// RFC 8448 section 3 (a simple 1-RTT handshake): the early secret with no
    /// PSK, and the "derived" secret the handshake secret is extracted from.
    func testTLS13KeyScheduleMatchesRFC8448() {
        let zeros = [UInt8](repeating: 0, count: 32)
        let early = HKDF<SHA256>.extract(salt: [], inputKey: zeros)
        XCTAssertEqual(hex(early), "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
        let derived = HKDF<SHA256>.deriveSecret(early, label: "derived", transcriptHash: SHA256.hash([]))
        XCTAssertEqual(hex(derived), "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
    }

    func testEveryWycheproofHKDFVector() throws {
        for (file, digestSize) in [("hkdf_sha256_test.json", 32), ("hkdf_sha384_test.json", 48)] {
            let tests = try Wycheproof.tests("Protocol/wycheproof/" + file)
            XCTAssertGreaterThan(tests.count, 50)
            for test in tests {
                let size = test.int("size")
                // The invalid ones ask for more than 255 blocks, which expand refuses by contract.
                guard test.valid else { XCTAssertGreaterThan(size, 255 * digestSize, "\(file) \(test.id)"); continue }
                let salt = test.hex("salt"), inputKey = test.hex("ikm"), info = test.hex("info")
                let output = digestSize == 32
                    ? HKDF<SHA256>.expand(pseudorandomKey: HKDF<SHA256>.extract(salt: salt, inputKey: inputKey), info: info, length: size)
                    : HKDF<SHA384>.expand(pseudorandomKey: HKDF<SHA384>.extract(salt: salt, inputKey: inputKey), info: info, length: size)
                XCTAssertEqual(hex(output), test.fields["okm"] as? String, "\(file) \(test.id)")
            }
        }
    }

    func testConstantTimeEqual() {
        XCTAssertTrue(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEqual([], []))
    }

    /// Random messages and keys of every length around the block sizes,
    /// each hashed and authenticated here and by Python's hashlib and hmac.
    func testRandomInputsMatchPythonsHashlibAndHMAC() throws {
        var generator = SystemRandomNumberGenerator()
        var cases: [(message: [UInt8], key: [UInt8])] = []
        for length in Array(0...260) + [1000, 4096, 10_000] {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let key = (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            cases.append((message, key))
        }
        let script = """
            import sys, hashlib, hmac
            for line in sys.stdin.read().split("\\n"):
                if not line: continue
                m, k = (bytes.fromhex(x) for x in line.split(" "))
                print(hashlib.sha256(m).hexdigest(), hashlib.sha384(m).hexdigest(), hashlib.sha512(m).hexdigest(),
                      hmac.new(k, m, "sha256").hexdigest(), hmac.new(k, m, "sha384").hexdigest())
            """
        let lines = try HostReference.python(script, lines: cases.map { "\(hex($0.message)) \(hex($0.key))" }, needs: "hashlib")
        XCTAssertEqual(lines.count, cases.count)
        for (test, line) in zip(cases, lines) {
            let expected = line.split(separator: " ").map(String.init)
            let ours = [hex(SHA256.hash(test.message)), hex(SHA384.hash(test.message)), hex(SHA512.hash(test.message)),
                        hex(HMAC<SHA256>.authenticationCode(for: test.message, key: test.key)),
                        hex(HMAC<SHA384>.authenticationCode(for: test.message, key: test.key))]
            XCTAssertEqual(ours, expected, "a message of \(test.message.count) bytes, a key of \(test.key.count)")
        }
    }
}
