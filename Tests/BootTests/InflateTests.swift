import Boot
import Foundation
import XCTest

/// Inflate against zlib itself (Python's zlib module): data of several
/// kinds and sizes compressed at every level and with each strategy,
/// as zlib streams and as raw DEFLATE; and damaged or random input, which
/// must be an error and never a crash. SHA-1 against FIPS 180-4's examples
/// and Python's hashlib.
final class InflateTests: XCTestCase {
    /// Cases "SEED KIND SIZE LEVEL STRATEGY WBITS"; the script prints each
    /// case's data and its compressed form, in hex.
    static let zlibScript = """
        import random, sys, zlib
        strategies = {"default": zlib.Z_DEFAULT_STRATEGY, "fixed": zlib.Z_FIXED, "huffman": zlib.Z_HUFFMAN_ONLY, "rle": zlib.Z_RLE, "filtered": zlib.Z_FILTERED}
        for line in sys.stdin:
            seed, kind, size, level, strategy, wbits = line.split()
            r = random.Random(int(seed))
            size = int(size)
            if kind == "random":
                data = bytes(r.getrandbits(8) for _ in range(size))
            elif kind == "text":
                words = [b"git", b"pack", b"object", b"tree", b"blob", b"commit", b"delta", b"\\n", b"<html>", b"</p>"]
                data = b" ".join(r.choice(words) for _ in range(size // 4 + 1))[:size]
            elif kind == "zeros":
                data = bytes(size)
            else:
                data = bytes(r.choice(b"ab") for _ in range(size))
            c = zlib.compressobj(int(level), zlib.DEFLATED, int(wbits), 9, strategies[strategy])
            packed = c.compress(data) + c.flush()
            print(data.hex(), packed.hex())
        """

    func testInflatesWhatZlibCompresses() throws {
        var cases: [String] = []
        var seed = 1
        for kind in ["random", "text", "zeros", "two-letters"] {
            for size in [0, 1, 100, 5000, 40_000] {
                for (level, strategy) in [(0, "default"), (1, "default"), (6, "default"), (9, "default"), (6, "fixed"),
                                          (6, "huffman"), (6, "rle"), (9, "filtered")] {
                    cases.append("\(seed) \(kind) \(size) \(level) \(strategy) \(seed % 2 == 0 ? 15 : 9)")
                    cases.append("\(seed) \(kind) \(size) \(level) \(strategy) -15")
                    seed += 1
                }
            }
        }
        let answers = try HostReference.python(InflateTests.zlibScript, lines: cases, needs: "zlib")
        XCTAssertEqual(answers.count, cases.count)
        for (text, answer) in zip(cases, answers) {
            let parts = answer.split(separator: " ", omittingEmptySubsequences: false)
            let data = bytes(hex: String(parts[0])), packed = bytes(hex: String(parts[1]))
            let raw = text.hasSuffix(" -15")
            // Followed by bytes that are not the stream's: `end` says where it stopped.
            let input = [0xAA, 0xBB] + packed + [0xCC]
            do {
                let result = raw ? try Inflate.raw(input, from: 2, limit: data.count) : try Inflate.zlib(input, from: 2, limit: data.count)
                XCTAssertEqual(result.output, data, text)
                XCTAssertEqual(result.end, 2 + packed.count, text)
            } catch {
                XCTFail("\(text): \(error)")
            }
            // The same zlib stream given in pieces of 1, 7 and 4096 bytes, followed by foreign bytes.
            if !raw {
                for pieceSize in [1, 7, 4096] {
                    var pieces = stride(from: 0, to: input.count - 2, by: pieceSize).map { Array(input[(2 + $0)..<min(input.count, 2 + $0 + pieceSize)]) }
                    pieces.reverse()
                    do {
                        let result = try Inflate.zlib(reading: { () throws(InflateError) -> [UInt8]? in pieces.popLast() },
                                                      limit: data.count, reserving: data.count)
                        XCTAssertEqual(result.output, data, "\(text), pieces of \(pieceSize)")
                        XCTAssertEqual(result.consumed, packed.count, "\(text), pieces of \(pieceSize)")
                    } catch {
                        XCTFail("\(text), pieces of \(pieceSize): \(error)")
                    }
                }
            }
            if !data.isEmpty {
                XCTAssertThrowsError(raw ? try Inflate.raw(packed, limit: data.count - 1) : try Inflate.zlib(packed, limit: data.count - 1), text) {
                    XCTAssertEqual($0 as? InflateError, .tooLarge)
                }
            }
        }
    }

    /// Every byte of a stream damaged in turn, and random bytes: an error
    /// or (where the damage makes other valid DEFLATE) bytes within the limit, never a crash.
    func testDamagedAndRandomInputIsAnErrorNotACrash() throws {
        let answers = try HostReference.python(InflateTests.zlibScript, lines: ["7 text 3000 6 default 15", "8 random 600 6 default 15"],
                                               needs: "zlib")
        for answer in answers {
            let parts = answer.split(separator: " ")
            let data = bytes(hex: String(parts[0])), packed = bytes(hex: String(parts[1]))
            var refused = 0
            for index in packed.indices {
                for flip: UInt8 in [0x01, 0x80, 0xFF] {
                    var damaged = packed
                    damaged[index] ^= flip
                    do {
                        // Only the unused bits after the last block may change and still inflate: to the same bytes.
                        let result = try Inflate.zlib(damaged, limit: 1 << 16)
                        XCTAssertEqual(result.output, data, "byte \(index) ^ \(flip) inflated to other bytes and passed the Adler-32")
                    } catch {
                        refused += 1
                    }
                }
            }
            XCTAssertGreaterThan(refused, packed.count * 3 - 3 * 2, "all but the final byte's padding bits are caught")
        }
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 2, 3, 10, 100, 1000] {
            for _ in 0..<300 {
                let input = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = try? Inflate.raw(input, limit: 1 << 16)
                _ = try? Inflate.zlib(input, limit: 1 << 16)
            }
        }
    }

    func testZlibHeaderAndStoredLengthAreChecked() {
        XCTAssertThrowsError(try Inflate.zlib([0x78], limit: 10)) { XCTAssertEqual($0 as? InflateError, .truncated) }
        XCTAssertThrowsError(try Inflate.zlib([0x79, 0x9C, 0x03, 0x00], limit: 10)) { XCTAssertEqual($0 as? InflateError, .badHeader) }
        XCTAssertThrowsError(try Inflate.zlib([0x78, 0xBB, 0x03, 0x00], limit: 10)) { XCTAssertEqual($0 as? InflateError, .badHeader) }  // a preset dictionary
        // A final stored block whose length's complement is wrong.
        XCTAssertThrowsError(try Inflate.raw([0x01, 0x05, 0x00, 0xFA, 0xF0], limit: 10)) { XCTAssertEqual($0 as? InflateError, .badStoredLength) }
        XCTAssertThrowsError(try Inflate.raw([0x07], limit: 10)) { XCTAssertEqual($0 as? InflateError, .badBlockType) }
        // A fixed block whose first code is a length: nothing to copy from.
        XCTAssertThrowsError(try Inflate.raw([0x03, 0x02, 0x00], limit: 10)) { XCTAssertEqual($0 as? InflateError, .distanceTooFar) }
    }

    func testSHA1MatchesFIPS180AndHashlib() throws {
        XCTAssertEqual(hex(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.hash([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        // git's name for the empty blob: SHA-1 of "blob 0\0".
        XCTAssertEqual(hex(SHA1.hash(Array("blob 0".utf8) + [0])), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
        let sizes = [1, 55, 56, 63, 64, 65, 119, 128, 1000, 4097]
        let answers = try HostReference.python("""
            import hashlib, sys
            for line in sys.stdin:
                size = int(line)
                print(hashlib.sha1(bytes((i * 31 + 7) % 256 for i in range(size))).hexdigest())
            """, lines: sizes.map(String.init), needs: "hashlib")
        for (size, answer) in zip(sizes, answers) {
            let data = (0..<size).map { UInt8(($0 * 31 + 7) % 256) }
            XCTAssertEqual(hex(SHA1.hash(data)), answer, "\(size) bytes")
            var pieces = SHA1()
            pieces.update(Array(data[0..<(size / 3)]))
            pieces.update(Array(data[(size / 3)...]))
            XCTAssertEqual(hex(pieces.finish()), answer, "\(size) bytes in two pieces")
        }
    }
}
