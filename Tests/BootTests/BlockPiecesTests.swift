@testable import Boot
import XCTest

/// Scattered reads and gathered writes: how a request's pieces are cut into
/// requests a device takes (each a whole number of sectors, no more spans
/// than its chain holds), and the default that copies through one buffer.
final class BlockPiecesTests: XCTestCase {
    func testOnePieceIsCutAtTheLargestRequest() throws {
        let requests = try XCTUnwrap(BlockPieces.requests([1 << 20], sectorSize: 512, maxSpans: 254, maxBytes: 64 * 1024))
        XCTAssertEqual(requests.count, 16)
        for (index, spans) in requests.enumerated() {
            XCTAssertEqual(spans, [BlockPieces.Span(piece: 0, offset: index * 65536, length: 65536)])
        }
    }

    func testARequestEndsAtItsLastWholeSectorAndTheRestOfThePieceStartsTheNext() throws {
        let requests = try XCTUnwrap(BlockPieces.requests([1000, 1000, 48], sectorSize: 512, maxSpans: 2, maxBytes: 1 << 20))
        XCTAssertEqual(requests, [
            [BlockPieces.Span(piece: 0, offset: 0, length: 1000), BlockPieces.Span(piece: 1, offset: 0, length: 536)],
            [BlockPieces.Span(piece: 1, offset: 536, length: 464), BlockPieces.Span(piece: 2, offset: 0, length: 48)],
        ])
        XCTAssertNil(BlockPieces.requests([1000, 1000, 48], sectorSize: 512, maxSpans: 1, maxBytes: 1 << 20),
                     "a sector in two pieces does not fit a request of one span")
        XCTAssertEqual(BlockPieces.requests([0, 512, 0], sectorSize: 512, maxSpans: 1, maxBytes: 512),
                       [[BlockPieces.Span(piece: 1, offset: 0, length: 512)]], "empty pieces take no span")
    }

    /// littlefs's layout (each block's pointers, then its data) and random
    /// ones: every request is whole sectors within the limits, and the
    /// requests in order cover every piece's bytes once, in order.
    func testRequestsCoverThePiecesInOrderWithinTheLimits() throws {
        var generator = SystemRandomNumberGenerator()
        var littlefs: [Int] = []
        for index in 1...600 {
            let pointers = 4 * (index.trailingZeroBitCount + 1)
            littlefs += [pointers, 4096 - pointers]
        }
        var cases: [([Int], Int, Int)] = [(littlefs, 254, 1 << 20)]
        for _ in 0..<300 {
            var lengths = (0..<Int.random(in: 1...40, using: &generator)).map { _ in Int.random(in: 0...3000, using: &generator) }
            let total = lengths.reduce(0, +)
            lengths.append((512 - total % 512) % 512)
            cases.append((lengths, Int.random(in: 1...12, using: &generator), 512 * Int.random(in: 1...8, using: &generator)))
        }
        for (lengths, maxSpans, maxBytes) in cases {
            guard let requests = BlockPieces.requests(lengths, sectorSize: 512, maxSpans: maxSpans, maxBytes: maxBytes) else {
                XCTAssertLessThan(maxSpans, 12, "only few spans can fail to hold a sector: \(lengths)")
                continue
            }
            var piece = 0, offset = 0
            for spans in requests {
                let bytes = spans.reduce(0) { $0 + $1.length }
                XCTAssertEqual(bytes % 512, 0)
                XCTAssertLessThanOrEqual(bytes, maxBytes)
                XCTAssertLessThanOrEqual(spans.count, maxSpans)
                for span in spans {
                    while offset == lengths[piece] { piece += 1; offset = 0 }
                    XCTAssertEqual(span.piece, piece, "\(lengths) \(maxSpans) \(maxBytes)")
                    XCTAssertEqual(span.offset, offset)
                    XCTAssertGreaterThan(span.length, 0)
                    offset += span.length
                }
            }
            while piece < lengths.count && offset == lengths[piece] { piece += 1; offset = 0 }
            XCTAssertEqual(piece, lengths.count, "every byte is in a request: \(lengths) \(maxSpans) \(maxBytes)")
        }
    }

    /// The protocol's default: one buffer, copied out (or in).
    func testTheDefaultScattersAndGathersThroughOneBuffer() throws {
        let disk = MemoryDisk(bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var head = [UInt8](repeating: 0, count: 3), body = [UInt8](repeating: 0, count: 1021)
        try head.withUnsafeMutableBytes { headBuffer in
            try body.withUnsafeMutableBytes { bodyBuffer in try disk.read(sector: 2, scattering: [headBuffer, bodyBuffer]) }
        }
        XCTAssertEqual(head + body, Array(disk.bytes[1024..<2048]))
        XCTAssertThrowsError(try body.withUnsafeMutableBytes { try disk.read(sector: 0, scattering: [$0]) }) {
            XCTAssertEqual($0 as? BlockError, .unaligned)
        }
        let written = (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try written.withUnsafeBytes { all in
            try disk.write(sector: 4, gathering: [UnsafeRawBufferPointer(rebasing: all[0..<5]), UnsafeRawBufferPointer(rebasing: all[5...])])
        }
        XCTAssertEqual(Array(disk.bytes[2048..<3072]), written)
    }
}
