import Boot
import XCTest

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
func bytes(_ hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

/// ChaCha20 against RFC 8439's published test vectors.
final class ChaCha20Tests: XCTestCase {
    let rfcKey = littleEndianWords(Array(0..<32))

    func testBlockFunctionSection232() {
        let block = ChaCha20.block(key: rfcKey, counter: 1, nonce: littleEndianWords(bytes("000000090000004a00000000")))
        XCTAssertEqual(hex(block), "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                       + "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e")
    }

    func testEncryptionSection242() {
        let plaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        let nonce = littleEndianWords(bytes("000000000000004a00000000"))
        let ciphertext = ChaCha20.xor(plaintext, key: rfcKey, counter: 1, nonce: nonce)
        XCTAssertEqual(hex(ciphertext), "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
                       + "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
                       + "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
                       + "5af90bbf74a35be6b40b8eedf2785e42874d")
        XCTAssertEqual(ChaCha20.xor(ciphertext, key: rfcKey, counter: 1, nonce: nonce), plaintext)
    }

    func testAppendixA1FirstVector() {
        let block = ChaCha20.block(key: [UInt32](repeating: 0, count: 8), counter: 0, nonce: [0, 0, 0])
        XCTAssertEqual(hex(block), "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
                       + "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586")
    }
}

/// BLAKE2s against RFC 7693 Appendix B and known digests.
final class BLAKE2sTests: XCTestCase {
    func testRFC7693AppendixB() {
        XCTAssertEqual(hex(BLAKE2s.hash(Array("abc".utf8))), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
    }

    func testEmptyExactBlockAndMultiBlockInputs() {
        XCTAssertEqual(hex(BLAKE2s.hash([])), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9")
        XCTAssertEqual(hex(BLAKE2s.hash(Array(0..<64))), "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e")
        XCTAssertEqual(hex(BLAKE2s.hash((0..<200).map { UInt8($0) })), "6d244e1a06ce4ef578dd0f63aff0936706735119ca9c8d22d86c801414ab9741")
        var incremental = BLAKE2s()
        for chunk in stride(from: 0, to: 200, by: 7) { incremental.update((chunk..<min(chunk + 7, 200)).map { UInt8($0) }) }
        XCTAssertEqual(hex(incremental.finalize()), "6d244e1a06ce4ef578dd0f63aff0936706735119ca9c8d22d86c801414ab9741")
    }
}

/// The generator's own reference behaviour: key = BLAKE2s(old key ‖ seed),
/// then fast key erasure (values computed independently with Python's
/// cryptography and hashlib).
final class GeneratorTests: XCTestCase {
    func testFastKeyErasureMatchesReference() {
        var generator = ChaChaGenerator()
        XCTAssertFalse(generator.isSeeded)
        generator.reseed(with: Array("mirage-config test seed".utf8))
        XCTAssertTrue(generator.isSeeded)
        XCTAssertEqual(hex(generator.bytes(32)), "72a2a7b12a9ed4f2d97a429f3138973fc5e475d273275598d1b64440c5c3ec7d")
        XCTAssertEqual(hex(generator.bytes(64)), "04257cf97715bace75952ad0edf6d0b84fc74a9631449eb55a57456e786d35df"
                       + "f41e21edb912a436bd09855bf020d81fe772b3e1c1fe877aa89fce99575e2daf")
    }

    func testOutputsNeverRepeatAndSeedsMatter() {
        var a = ChaChaGenerator(), b = ChaChaGenerator()
        a.reseed(with: [1])
        b.reseed(with: [2])
        let first = a.bytes(32)
        XCTAssertNotEqual(first, a.bytes(32))
        XCTAssertNotEqual(first, b.bytes(32))
    }

    func testIntegerBelowBoundIsInRangeAndCoversIt() {
        var generator = ChaChaGenerator()
        generator.reseed(with: [9, 9, 9])
        var seen = Set<UInt64>()
        for _ in 0..<500 {
            let value = generator.integer(below: 6)
            XCTAssertLessThan(value, 6)
            seen.insert(value)
        }
        XCTAssertEqual(seen.count, 6)
    }

    func testPoolCreditsAtMostEightBitsPerByteAndResetsOnExtract() {
        var pool = EntropyPool()
        pool.mix([1, 2, 3, 4], claimedBits: 1000)
        XCTAssertEqual(pool.claimedBits, 32)
        pool.mix([5], claimedBits: -4)
        XCTAssertEqual(pool.claimedBits, 32)
        let seed = pool.extract()
        XCTAssertEqual(seed.count, 32)
        XCTAssertEqual(pool.claimedBits, 0)
        var other = EntropyPool()
        other.mix([1, 2, 3, 4], claimedBits: 0)
        other.mix([5], claimedBits: 0)
        XCTAssertEqual(other.extract(), seed, "extraction depends on the inputs only")
        XCTAssertNotEqual(pool.extract(), seed, "the pool moves on after an extraction")
    }
}

final class JitterEstimateTests: XCTestCase {
    func testStuckTimerClaimsNothing() {
        let assessment = JitterEstimate.assess([UInt32](repeating: 1000, count: 1024))
        XCTAssertEqual(assessment.claimedBits, 0)
        XCTAssertNotNil(assessment.failure)
    }

    func testTwoValuesAlternatingClaimLittle() {
        let samples = (0..<1024).map { UInt32($0 % 2 == 0 ? 100 : 101) }
        let assessment = JitterEstimate.assess(samples)
        XCTAssertNil(assessment.failure)
        XCTAssertLessThanOrEqual(assessment.bitsPerSample256, 256, "at most 1 bit per sample for two equally likely values")
    }

    func testSpreadSamplesClaimAQuarterOfTheEstimate() {
        var state: UInt32 = 12345
        let samples = (0..<1024).map { _ -> UInt32 in
            state = state &* 1_103_515_245 &+ 12345
            return 500 + (state >> 16) % 64
        }
        let assessment = JitterEstimate.assess(samples)
        XCTAssertNil(assessment.failure)
        XCTAssertGreaterThan(assessment.bitsPerSample256, 3 * 256, "64 spread values give several bits")
        XCTAssertEqual(assessment.claimedBits, assessment.bitsPerSample256 * 1024 / 256 / 4)
    }

    func testLog2LowerBound() {
        XCTAssertEqual(JitterEstimate.log2LowerBound256(1), 0)
        XCTAssertEqual(JitterEstimate.log2LowerBound256(2), 256)
        XCTAssertEqual(JitterEstimate.log2LowerBound256(8), 768)
        XCTAssertLessThanOrEqual(JitterEstimate.log2LowerBound256(3), 406)   // log2(3) = 1.585 -> 405.7
        XCTAssertGreaterThanOrEqual(JitterEstimate.log2LowerBound256(3), 384)
    }
}
