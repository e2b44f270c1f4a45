@testable import Boot
import XCTest

/// TCP on the host: the connection's state machine with segments in and
/// out and a fake time, and the stack's listen, accept, resets and parsing.
final class TCPTests: XCTestCase {
    let second: UInt64 = 1_000_000

    func syn(sequence: UInt32 = 1000, window: UInt16 = 8192, mss: UInt16? = 1400) -> TCPSegment {
        TCPSegment(sourcePort: 5555, destinationPort: 80, sequence: sequence, acknowledgment: 0, flags: TCPSegment.syn,
                   window: window, maximumSegmentSize: mss)
    }

    func ack(_ sequence: UInt32, _ acknowledgment: UInt32, data: [UInt8] = [], flags: UInt8 = TCPSegment.ack, window: UInt16 = 8192) -> TCPSegment {
        TCPSegment(sourcePort: 5555, destinationPort: 80, sequence: sequence, acknowledgment: acknowledgment, flags: flags,
                   window: window, data: data)
    }

    /// A connection through the handshake: our initial sequence is 5000.
    func established() -> TCPConnection {
        let connection = TCPConnection(syn: syn(), localPort: 80, remoteAddress: 1, initialSequence: 5000, ticksPerSecond: second)
        let synAck = connection.synAcknowledgment(now: 0)
        XCTAssertEqual(synAck.flags, TCPSegment.syn | TCPSegment.ack)
        XCTAssertEqual(synAck.acknowledgment, 1001)
        XCTAssertEqual(synAck.maximumSegmentSize, 1460)
        XCTAssertEqual(connection.receive(ack(1001, 5001), now: 10), [])
        XCTAssertEqual(connection.state, .established)
        return connection
    }

    func testHandshakeDataAndOrderlyClose() {
        let connection = established()
        let replies = connection.receive(ack(1001, 5001, data: Array("GET /".utf8), flags: TCPSegment.ack | TCPSegment.psh), now: 20)
        XCTAssertEqual(replies.map(\.acknowledgment), [1006])
        XCTAssertEqual(connection.take(100), Array("GET /".utf8))
        XCTAssertEqual(connection.give(Array(repeating: 7, count: 3000)[...]), 3000)
        let out = connection.output(now: 30)
        XCTAssertEqual(out.map(\.data.count), [1400, 1400, 200], "segments of the peer's MSS")
        XCTAssertEqual(out.map(\.sequence), [5001, 6401, 7801])
        connection.close()
        XCTAssertEqual(connection.state, .finWait1)
        let fin = connection.output(now: 31)
        XCTAssertEqual(fin.count, 1)
        XCTAssertTrue(fin[0].has(TCPSegment.fin))
        XCTAssertEqual(fin[0].sequence, 8001)
        _ = connection.receive(ack(1006, 8002), now: 40)
        XCTAssertEqual(connection.state, .finWait2)
        XCTAssertEqual(connection.receive(ack(1006, 8002, flags: TCPSegment.ack | TCPSegment.fin), now: 41).map(\.acknowledgment), [1007])
        XCTAssertEqual(connection.state, .timeWait)
        _ = connection.output(now: 41 + 2 * second)
        XCTAssertEqual(connection.state, .closed)
    }

    func testLostSegmentsAreResentWithABackoff() {
        let connection = established()
        _ = connection.give(Array(repeating: 1, count: 2000)[...])
        XCTAssertEqual(connection.output(now: 100).count, 2)
        XCTAssertEqual(connection.output(now: 100 + second / 2), [], "nothing before the timeout")
        let resent = connection.output(now: 101 + second)
        XCTAssertEqual(resent.first?.sequence, 5001, "back to the oldest unacknowledged byte")
        // The first segment acknowledged: the timeout starts again from one second.
        _ = connection.receive(ack(1001, 6401), now: 200 + second)
        XCTAssertEqual(connection.sendUnacknowledged, 6401)
        XCTAssertEqual(connection.timeout, second)
    }

    func testOutOfOrderDataIsDroppedAndAcknowledgedAgain() {
        let connection = established()
        let replies = connection.receive(ack(1501, 5001, data: [1, 2, 3]), now: 20)
        XCTAssertEqual(replies.map(\.acknowledgment), [1001], "a duplicate acknowledgment of what we have")
        XCTAssertFalse(connection.hasData)
    }

    func testTheWindowIsRespectedAndTheReceiveBufferBounded() {
        let connection = established()
        _ = connection.receive(ack(1001, 5001, window: 500), now: 20)
        _ = connection.give(Array(repeating: 1, count: 2000)[...])
        XCTAssertEqual(connection.output(now: 21).map(\.data.count), [500], "no more than the peer's window")
        var sequence: UInt32 = 1001
        while connection.receiveBuffer.count < TCPConnection.receiveCapacity {
            _ = connection.receive(ack(sequence, 5001, data: Array(repeating: 2, count: 1400)), now: 30)
            sequence = connection.receiveNext
        }
        XCTAssertEqual(connection.window, 0)
        XCTAssertEqual(connection.receiveBuffer.count, TCPConnection.receiveCapacity, "nothing beyond the window is kept")
    }

    func testResetsCloseAndSynsAreAnsweredAgain() {
        let fresh = TCPConnection(syn: syn(), localPort: 80, remoteAddress: 1, initialSequence: 5000, ticksPerSecond: second)
        _ = fresh.synAcknowledgment(now: 0)
        XCTAssertEqual(fresh.receive(syn(), now: 5).first?.flags, TCPSegment.syn | TCPSegment.ack, "a repeated SYN")
        let connection = established()
        _ = connection.receive(ack(999_999, 0, flags: TCPSegment.rst), now: 20)
        XCTAssertEqual(connection.state, .established, "a reset outside the window is ignored")
        _ = connection.receive(ack(1001, 0, flags: TCPSegment.rst), now: 21)
        XCTAssertEqual(connection.state, .closed)
    }

    func testSegmentsRoundTripAndMalformedOnesAreRefused() throws {
        let segment = TCPSegment(sourcePort: 80, destinationPort: 5555, sequence: 0xFFFF_FFF0, acknowledgment: 7, flags: TCPSegment.ack,
                                 window: 100, maximumSegmentSize: 1460, data: [1, 2, 3])
        let bytes = segment.emit(source: 1, destination: 2)
        XCTAssertEqual(TCPSegment(parsing: bytes[...], source: 1, destination: 2), segment)
        XCTAssertNil(TCPSegment(parsing: bytes[...], source: 1, destination: 3), "the pseudo-header is in the checksum")
        var generator = SplitMix(seed: 3)
        for _ in 0..<20000 {
            var damaged = bytes
            damaged[Int(generator.next() % UInt64(damaged.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            let cut = Array(damaged.prefix(Int(generator.next() % UInt64(damaged.count + 1))))
            _ = TCPSegment(parsing: cut[...], source: 1, destination: 2)
        }
        // Sequence numbers wrap.
        XCTAssertTrue(TCPConnection.before(0xFFFF_FFF0, 5))
    }
}
