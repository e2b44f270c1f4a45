@testable import Boot
import XCTest

/// TCP on the host: the connection's state machine with segments in and
/// out and a fake time (ticks are microseconds), then two connections
/// talking over a link that loses, duplicates and reorders.
final class TCPTests: XCTestCase {
    let second: UInt64 = 1_000_000
    let fullOptions = TCPOptions(maximumSegmentSize: 1400, windowScale: 7, sackPermitted: true, timestamp: TCPTimestamp(value: 500, echo: 0))

    func syn(sequence: UInt32 = 1000, window: UInt16 = 8192, options: TCPOptions = TCPOptions(maximumSegmentSize: 1400)) -> TCPSegment {
        TCPSegment(sourcePort: 5555, destinationPort: 80, sequence: sequence, acknowledgment: 0, flags: TCPSegment.syn,
                   window: window, options: options)
    }

    func ack(_ sequence: UInt32, _ acknowledgment: UInt32, data: [UInt8] = [], flags: UInt8 = TCPSegment.ack, window: UInt16 = 8192,
             options: TCPOptions = TCPOptions()) -> TCPSegment {
        TCPSegment(sourcePort: 5555, destinationPort: 80, sequence: sequence, acknowledgment: acknowledgment, flags: flags,
                   window: window, options: options, data: data[...])
    }

    /// A connection through the handshake (no options but MSS 1400): our initial sequence is 5000, theirs 1000.
    func established(window: UInt16 = 8192) -> TCPConnection {
        let connection = TCPConnection(syn: syn(window: window), localPort: 80, remoteAddress: .v4(1), initialSequence: 5000, now: 0,
                                       ticksPerSecond: second)
        let synAck = connection.synAcknowledgment(now: 0)
        XCTAssertEqual(synAck.flags, TCPSegment.syn | TCPSegment.ack)
        XCTAssertEqual(synAck.acknowledgment, 1001)
        XCTAssertEqual(synAck.options, TCPOptions(maximumSegmentSize: 1460), "only what the peer offered too")
        XCTAssertEqual(connection.receive(ack(1001, 5001, window: window), now: 10), [])
        XCTAssertEqual(connection.state, .established)
        return connection
    }

    func testFullSegmentsAreAcknowledgedOncePerBatch() {
        let connection = established(window: 65535)
        var sequence: UInt32 = 1001
        func fullSegment() -> [TCPSegment] {
            defer { sequence &+= 1400 }
            return connection.receive(ack(sequence, 5001, data: Array(repeating: 1, count: 1400)), now: 20)
        }
        XCTAssertEqual(fullSegment(), [])
        XCTAssertEqual(fullSegment(), [], "the second full segment: owed, not sent while the batch is being handled")
        XCTAssertEqual(connection.nextDeadline, 20, "due at once")
        XCTAssertEqual(connection.output(now: 20).map(\.acknowledgment), [1001 + 2 * 1400], "one acknowledgment after the batch")
        XCTAssertEqual(connection.output(now: 20), [], "and only one")
        for _ in 0..<7 { XCTAssertEqual(fullSegment(), []) }
        XCTAssertEqual(fullSegment().map(\.acknowledgment), [1001 + 10 * 1400], "the eighth of one batch is acknowledged at once")
        XCTAssertEqual(connection.output(now: 20), [])
    }

    func testHandshakeDataAndOrderlyClose() {
        let connection = established()
        XCTAssertEqual(connection.receive(ack(1001, 5001, data: Array("GET /".utf8), flags: TCPSegment.ack | TCPSegment.psh), now: 20), [],
                       "the acknowledgment is delayed")
        XCTAssertEqual(connection.output(now: 20 + second / 50), [], "not yet at 20 ms")
        XCTAssertEqual(connection.output(now: 20 + second / 25).map(\.acknowledgment), [1006], "sent by 40 ms")
        XCTAssertEqual(connection.take(100), Array("GET /".utf8))
        XCTAssertEqual(connection.give(Array(repeating: 7, count: 3000)[...]), 3000)
        let out = connection.output(now: 100_000)
        XCTAssertEqual(out.map(\.data.count), [1400, 1400, 200], "segments of the peer's MSS")
        XCTAssertEqual(out.map(\.sequence), [5001, 6401, 7801])
        connection.close()
        XCTAssertEqual(connection.state, .finWait1)
        let fin = connection.output(now: 100_001)
        XCTAssertEqual(fin.count, 1)
        XCTAssertTrue(fin[0].has(TCPSegment.fin))
        XCTAssertEqual(fin[0].sequence, 8001)
        _ = connection.receive(ack(1006, 8002), now: 140_000)
        XCTAssertEqual(connection.state, .finWait2)
        XCTAssertEqual(connection.receive(ack(1006, 8002, flags: TCPSegment.ack | TCPSegment.fin), now: 141_000).map(\.acknowledgment), [1007])
        XCTAssertEqual(connection.state, .timeWait)
        _ = connection.output(now: 141_000 + 59 * second)
        XCTAssertEqual(connection.state, .timeWait, "TIME-WAIT lasts 2 MSL")
        _ = connection.output(now: 141_000 + 61 * second)
        XCTAssertEqual(connection.state, .closed)
        XCTAssertNil(connection.failure)
    }

    func testOptionsAreNegotiatedAndUsed() {
        let connection = TCPConnection(syn: syn(window: 1000, options: fullOptions), localPort: 80, remoteAddress: .v4(1), initialSequence: 5000,
                                       now: 0, ticksPerSecond: second)
        let synAck = connection.synAcknowledgment(now: 7000)
        XCTAssertEqual(synAck.options.maximumSegmentSize, 1460)
        XCTAssertEqual(synAck.options.windowScale, 1, "64 KiB of buffer needs a shift of one")
        XCTAssertTrue(synAck.options.sackPermitted)
        XCTAssertEqual(synAck.options.timestamp, TCPTimestamp(value: 7, echo: 500))
        XCTAssertEqual(synAck.window, 65535, "never scaled in a SYN")
        // The ACK: the window is now scaled by the peer's 7, and echoes our 7 ms 20 ms later.
        _ = connection.receive(ack(1001, 5001, window: 1000, options: TCPOptions(timestamp: TCPTimestamp(value: 510, echo: 7))), now: 27_000)
        XCTAssertEqual(connection.state, .established)
        XCTAssertEqual(connection.sendWindow, 128_000)
        XCTAssertEqual(connection.segmentSize, 1388, "1400 less the 12 bytes of the timestamp option")
        XCTAssertEqual(connection.retransmitTimer.smoothed, 20_500, "the round trip from the echoed timestamp")
        _ = connection.give(Array(repeating: 1, count: 100)[...])
        let data = connection.output(now: 30_000)
        XCTAssertEqual(data.first?.options.timestamp, TCPTimestamp(value: 30, echo: 510))
        XCTAssertEqual(data.first?.window, UInt16(TCPConnection.receiveCapacity >> 1), "our window, scaled by our shift")
        // PAWS: a segment with an older timestamp is an old duplicate and is dropped.
        let old = connection.receive(ack(1001, 5101, data: [9], options: TCPOptions(timestamp: TCPTimestamp(value: 400, echo: 30))), now: 31_000)
        XCTAssertEqual(old.count, 1)
        XCTAssertFalse(connection.hasData)
    }

    func testActiveOpenAndRefusal() {
        let connection = TCPConnection(localPort: 50000, remoteAddress: .v4(1), remotePort: 80, initialSequence: 77, now: 0, ticksPerSecond: second)
        let ourSyn = connection.synchronize(now: 0)
        XCTAssertEqual(ourSyn.flags, TCPSegment.syn)
        XCTAssertEqual(ourSyn.options.windowScale, 1)
        XCTAssertTrue(ourSyn.options.sackPermitted)
        XCTAssertNotNil(ourSyn.options.timestamp)
        XCTAssertEqual(connection.output(now: second + 1).first?.flags, TCPSegment.syn, "resent after a second")
        let synAck = TCPSegment(sourcePort: 80, destinationPort: 50000, sequence: 9000, acknowledgment: 78,
                                flags: TCPSegment.syn | TCPSegment.ack, window: 4000, options: TCPOptions(maximumSegmentSize: 1000))
        let reply = connection.receive(synAck, now: second + 50_000)
        XCTAssertEqual(reply.map(\.acknowledgment), [9001])
        XCTAssertEqual(connection.state, .established)
        XCTAssertEqual(connection.segmentSize, 1000)
        XCTAssertFalse(connection.timestampsOn, "the peer did not offer them")

        let refused = TCPConnection(localPort: 50001, remoteAddress: .v4(1), remotePort: 81, initialSequence: 77, now: 0, ticksPerSecond: second)
        _ = refused.synchronize(now: 0)
        _ = refused.receive(TCPSegment(sourcePort: 81, destinationPort: 50001, sequence: 0, acknowledgment: 78,
                                       flags: TCPSegment.rst | TCPSegment.ack, window: 0), now: 10)
        XCTAssertEqual(refused.state, .closed)
        XCTAssertEqual(refused.failure, .refused)

        let unanswered = TCPConnection(localPort: 50002, remoteAddress: .v4(1), remotePort: 82, initialSequence: 77, now: 0, ticksPerSecond: second)
        _ = unanswered.synchronize(now: 0)
        var time: UInt64 = 0
        for _ in 0..<10 { time += 70 * second; _ = unanswered.output(now: time) }
        XCTAssertEqual(unanswered.failure, .timedOut, "gives up after five SYNs")
    }

    func testRetransmissionTimeoutFollowsRFC6298() {
        let connection = established()
        _ = connection.give(Array(repeating: 1, count: 1400)[...])
        XCTAssertEqual(connection.output(now: 100_000).count, 1)
        _ = connection.receive(ack(1001, 6401), now: 200_000)
        XCTAssertEqual(connection.retransmitTimer.smoothed, 100_000, "Karn: the one timed segment")
        XCTAssertEqual(connection.retransmitTimer.timeout, 300_000, "SRTT + 4 RTTVAR = 100 + 4 x 50 ms")
        _ = connection.give(Array(repeating: 2, count: 2000)[...])
        XCTAssertEqual(connection.output(now: 300_000).count, 2)
        XCTAssertEqual(connection.output(now: 500_000), [], "nothing before the timeout")
        let resent = connection.output(now: 600_001)
        XCTAssertEqual(resent.map(\.sequence), [6401], "back to the oldest byte, one segment: the congestion window fell to one")
        XCTAssertEqual(connection.retransmitTimer.timeout, 600_000, "and the timeout doubled")
        XCTAssertEqual(connection.congestion.window, 1400)
        XCTAssertEqual(connection.congestion.threshold, 2800)
        // The resent segment is not timed (Karn); an acknowledgment of all brings the estimate back.
        _ = connection.receive(ack(1001, 8401), now: 700_000)
        XCTAssertEqual(connection.retransmitTimer.timeout, 300_000)
        XCTAssertNil(connection.retransmitAt)
    }

    func testNewRenoFastRetransmitAndRecovery() {
        let connection = established(window: 65535)
        _ = connection.give(Array(repeating: 3, count: 14000)[...])
        let flight = connection.output(now: 100)
        XCTAssertEqual(flight.count, 10, "RFC 6928's initial window: ten segments")
        XCTAssertEqual(connection.receive(ack(1001, 5001, window: 65535), now: 200), [])
        XCTAssertEqual(connection.receive(ack(1001, 5001, window: 65535), now: 201), [])
        let third = connection.receive(ack(1001, 5001, window: 65535), now: 202)
        XCTAssertEqual(third.map(\.sequence), [5001], "the third duplicate resends the first segment at once")
        XCTAssertTrue(connection.congestion.inRecovery)
        XCTAssertEqual(connection.congestion.threshold, 7000, "half of what was in flight")
        XCTAssertEqual(connection.congestion.window, 7000 + 3 * 1400)
        // A partial acknowledgment: the next hole goes out at once.
        let partial = connection.receive(ack(1001, 6401, window: 65535), now: 300)
        XCTAssertEqual(partial.map(\.sequence), [6401])
        XCTAssertTrue(connection.congestion.inRecovery)
        // All acknowledged: recovery ends; nothing is left in flight, so RFC 6582's
        // min(ssthresh, max(FlightSize, SMSS) + SMSS) is two segments.
        _ = connection.receive(ack(1001, 19001, window: 65535), now: 400)
        XCTAssertFalse(connection.congestion.inRecovery)
        XCTAssertEqual(connection.congestion.window, 2800)
    }

    func testOutOfOrderSegmentsAreKeptSACKedAndJoined() {
        let connection = TCPConnection(syn: syn(options: fullOptions), localPort: 80, remoteAddress: .v4(1), initialSequence: 5000, now: 0,
                                       ticksPerSecond: second)
        _ = connection.synAcknowledgment(now: 0)
        let stamp = TCPOptions(timestamp: TCPTimestamp(value: 501, echo: 0))
        _ = connection.receive(ack(1001, 5001, options: stamp), now: 10)
        let late = connection.receive(ack(1011, 5001, data: Array(10..<20), options: stamp), now: 20)
        XCTAssertEqual(late.map(\.acknowledgment), [1001], "a duplicate acknowledgment at once")
        XCTAssertEqual(late.first?.options.sackBlocks, [SACKBlock(start: 1011, end: 1021)])
        let later = connection.receive(ack(1031, 5001, data: Array(30..<40), options: stamp), now: 21)
        XCTAssertEqual(later.first?.options.sackBlocks, [SACKBlock(start: 1031, end: 1041), SACKBlock(start: 1011, end: 1021)],
                       "the latest block first")
        _ = connection.receive(ack(1015, 5001, data: Array(14..<25), options: stamp), now: 22)   // overlaps, joins
        XCTAssertEqual(connection.outOfOrder.count, 2)
        XCTAssertFalse(connection.hasData)
        let filled = connection.receive(ack(1001, 5001, data: Array(0..<10), options: stamp), now: 23)
        XCTAssertEqual(filled.map(\.acknowledgment), [1026], "the gap filled: acknowledged up to the next gap at once")
        XCTAssertEqual(filled.first?.options.sackBlocks, [SACKBlock(start: 1031, end: 1041)])
        let last = connection.receive(ack(1026, 5001, data: Array(25..<30), options: stamp), now: 24)
        XCTAssertEqual(last.map(\.acknowledgment), [1041])
        XCTAssertEqual(connection.take(100), Array(0..<40))
    }

    func testTheWindowIsRespectedAndTheReceiveBufferBounded() {
        let connection = established()
        _ = connection.receive(ack(1001, 5001, window: 500), now: 20)
        _ = connection.give(Array(repeating: 1, count: 2000)[...])
        XCTAssertEqual(connection.output(now: 21).map(\.data.count), [500], "no more than the peer's window")
        var sequence: UInt32 = 1001
        while connection.receiveBuffer.free > 0 {
            _ = connection.receive(ack(sequence, 5001, data: Array(repeating: 2, count: 1400), window: 500), now: 30)
            sequence = connection.receiveNext
        }
        XCTAssertEqual(connection.window, 0)
        let probe = connection.receive(ack(sequence, 5501, data: [2], window: 500), now: 40)
        XCTAssertEqual(probe.map(\.window), [0], "a byte beyond a zero window is refused and answered")
        XCTAssertEqual(connection.receiveBuffer.count, TCPConnection.receiveCapacity, "nothing beyond the window is kept")
        XCTAssertEqual(connection.take(1000).count, 1000)
        XCTAssertEqual(connection.output(now: 50), [], "a small opening is not worth an update (silly window avoidance)")
        _ = connection.take(10_000)
        XCTAssertEqual(connection.output(now: 60).map(\.window), [UInt16(11000 >> 0)], "a window update once it opened by two segments")
    }

    func testZeroWindowIsProbed() {
        let connection = established()
        _ = connection.give(Array(repeating: 1, count: 3000)[...])
        _ = connection.receive(ack(1001, 5001, window: 0), now: 20)
        XCTAssertEqual(connection.output(now: 30), [], "no room")
        let probe = connection.output(now: 30 + second + 1)
        XCTAssertEqual(probe.map(\.sequence), [5000], "a probe below the window draws the peer's window")
        XCTAssertEqual(probe.first?.data, [])
        XCTAssertEqual(connection.output(now: 40 + second + second / 2), [], "probes back off")
        XCTAssertEqual(connection.output(now: 40 + 3 * second).count, 1)
        _ = connection.receive(ack(1001, 5001, window: 4000), now: 50 + 3 * second)
        XCTAssertEqual(connection.output(now: 60 + 3 * second).map(\.data.count), [1400, 1400, 200], "open again")
    }

    func testNagleGathersSmallWritesUnlessNoDelay() {
        let connection = established()
        _ = connection.give([1][...])
        XCTAssertEqual(connection.output(now: 20).map(\.data.count), [1], "nothing in flight: sent")
        _ = connection.give([2][...])
        _ = connection.give([3][...])
        XCTAssertEqual(connection.output(now: 21), [], "held while the first is unacknowledged")
        _ = connection.receive(ack(1001, 5002), now: 30)
        XCTAssertEqual(connection.output(now: 31).map(\.data), [[2, 3]], "gathered")
        let eager = established()
        eager.noDelay = true
        _ = eager.give([1][...])
        _ = eager.output(now: 20)
        _ = eager.give([2][...])
        XCTAssertEqual(eager.output(now: 21).map(\.data), [[2]])
        // Minshall's form: a small tail goes at once when no earlier small segment is out.
        let minshall = established()
        _ = minshall.give(Array(repeating: 1, count: 1500)[...])
        XCTAssertEqual(minshall.output(now: 20).map(\.data.count), [1400, 100])
    }

    func testKeepAliveProbesAndGivesUp() {
        let connection = established()
        connection.keepAlive = TCPKeepAlive(idleSeconds: 10, intervalSeconds: 2, probes: 3)
        XCTAssertEqual(connection.output(now: 9 * second), [])
        let probe = connection.output(now: 10 * second + 10)
        XCTAssertEqual(probe.map(\.sequence), [5000])
        _ = connection.receive(ack(1001, 5001), now: 11 * second)   // answered
        XCTAssertEqual(connection.output(now: 12 * second), [], "the peer is there: idle again")
        for time in [21, 23, 25] { XCTAssertEqual(connection.output(now: UInt64(time) * second + 20).count, 1) }
        _ = connection.output(now: 27 * second + 20)
        XCTAssertEqual(connection.state, .closed)
        XCTAssertEqual(connection.failure, .timedOut)
    }

    func testRFC5961ChallengesBlindResetsSynsAndAcknowledgments() {
        let connection = established()
        XCTAssertEqual(connection.receive(ack(999_999, 0, flags: TCPSegment.rst), now: 20), [], "outside the window: ignored")
        let challenged = connection.receive(ack(1500, 0, flags: TCPSegment.rst), now: 21)
        XCTAssertEqual(challenged.map(\.acknowledgment), [1001], "in the window but not exact: a challenge ACK")
        XCTAssertEqual(connection.state, .established)
        XCTAssertEqual(connection.receive(syn(sequence: 1200), now: 22).map(\.flags), [TCPSegment.ack], "a SYN is challenged too")
        XCTAssertEqual(connection.state, .established)
        XCTAssertEqual(connection.receive(ack(1001, 90_000), now: 23).map(\.acknowledgment), [1001], "an ACK of what was never sent")
        XCTAssertEqual(connection.sendUnacknowledged, 5001)
        var answered = 0
        for index in 0..<50 { answered += connection.receive(ack(1500, 0, flags: TCPSegment.rst), now: 30 + UInt64(index)).count }
        XCTAssertLessThanOrEqual(answered, 10, "challenges are rate limited")
        _ = connection.receive(ack(1001, 0, flags: TCPSegment.rst), now: 100)
        XCTAssertEqual(connection.state, .closed)
        XCTAssertEqual(connection.failure, .reset)
    }

    func testSegmentsRoundTripAndMalformedOnesAreRefused() throws {
        let options = TCPOptions(maximumSegmentSize: 1460, windowScale: 3, sackPermitted: true, timestamp: TCPTimestamp(value: 1, echo: 2))
        let segment = TCPSegment(sourcePort: 80, destinationPort: 5555, sequence: 0xFFFF_FFF0, acknowledgment: 7, flags: TCPSegment.ack,
                                 window: 100, options: options, data: [1, 2, 3])
        let bytes = segment.emit(source: 1, destination: 2)
        XCTAssertEqual(TCPSegment(parsing: bytes[...], source: 1, destination: 2), segment)
        XCTAssertNil(TCPSegment(parsing: bytes[...], source: 1, destination: 3), "the pseudo-header is in the checksum")
        let sack = TCPOptions(timestamp: TCPTimestamp(value: 1, echo: 2),
                              sackBlocks: (0..<4).map { SACKBlock(start: UInt32($0) * 100, end: UInt32($0) * 100 + 50) })
        let withBlocks = TCPSegment(sourcePort: 1, destinationPort: 2, sequence: 0, acknowledgment: 0, flags: TCPSegment.ack, window: 0,
                                    options: sack)
        let parsed = try XCTUnwrap(TCPSegment(parsing: withBlocks.emit(source: 1, destination: 2)[...], source: 1, destination: 2))
        XCTAssertEqual(parsed.options.sackBlocks.count, 3, "with timestamps, three blocks fit in 40 bytes")
        var generator = SplitMix(seed: 3)
        for _ in 0..<20000 {
            var damaged = bytes
            damaged[Int(generator.next() % UInt64(damaged.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            let cut = Array(damaged.prefix(Int(generator.next() % UInt64(damaged.count + 1))))
            _ = TCPSegment(parsing: cut[...], source: 1, destination: 2)
            _ = TCPOptions(parsing: cut[...])
        }
        XCTAssertTrue(TCPConnection.before(0xFFFF_FFF0, 5), "sequence numbers wrap")
    }

    func testRandomSegmentsNeverTrapAConnection() {
        var generator = SplitMix(seed: 11)
        for round in 0..<200 {
            let connection = round % 2 == 0 ? established()
                : TCPConnection(syn: syn(options: fullOptions), localPort: 80, remoteAddress: .v4(1), initialSequence: 5000, now: 0, ticksPerSecond: second)
            _ = connection.give(Array(repeating: 5, count: Int(generator.next() % 5000))[...])
            var time: UInt64 = 0
            for _ in 0..<200 {
                time += generator.next() % (2 * second)
                let near = { (base: UInt32) in base &+ UInt32(truncatingIfNeeded: generator.next() % 70_000) &- 35_000 }
                let flags = UInt8(truncatingIfNeeded: generator.next()) & 0x1F
                var options = TCPOptions()
                if generator.next() % 3 == 0 { options.timestamp = TCPTimestamp(value: UInt32(truncatingIfNeeded: generator.next()), echo: 0) }
                if generator.next() % 4 == 0 { options.sackBlocks = [SACKBlock(start: near(5000), end: near(5000))] }
                let segment = ack(near(connection.receiveNext), near(connection.sendUnacknowledged),
                                  data: Array(repeating: 1, count: Int(generator.next() % 3000)), flags: flags,
                                  window: UInt16(truncatingIfNeeded: generator.next()), options: options)
                _ = connection.receive(segment, now: time)
                _ = connection.output(now: time)
                if generator.next() % 5 == 0 { _ = connection.take(Int(generator.next() % 20000)) }
                if generator.next() % 50 == 0 { connection.close() }
            }
        }
    }

    // MARK: Two connections over a bad link

    /// Carries segments between two connections with a delay, dropping,
    /// duplicating and reordering a share of them.
    struct Link {
        var generator: SplitMix
        let loss: UInt64, duplication: UInt64, reordering: UInt64   // per thousand
        var inTransit: [(arrives: UInt64, toServer: Bool, segment: TCPSegment)] = []
        var delivered = 0, dropped = 0

        mutating func send(_ segments: [TCPSegment], toServer: Bool, now: UInt64) {
            for segment in segments {
                if generator.next() % 1000 < loss { dropped += 1; continue }
                let copies = generator.next() % 1000 < duplication ? 2 : 1
                for _ in 0..<copies {
                    let delay: UInt64 = generator.next() % 1000 < reordering ? 5_000 + generator.next() % 20_000 : 5_000
                    inTransit.append((now + delay, toServer, segment))
                }
            }
        }

        mutating func due(at now: UInt64) -> [(toServer: Bool, segment: TCPSegment)] {
            let ready = inTransit.filter { $0.arrives <= now }.sorted { $0.arrives < $1.arrives }
            inTransit.removeAll { $0.arrives <= now }
            delivered += ready.count
            return ready.map { ($0.toServer, $0.segment) }
        }
    }

    /// Sends `size` bytes from a client to a server over `link` and back; returns what each received.
    func transfer(size: Int, over link: inout Link, clientOptions: Bool = true) -> (atServer: [UInt8], atClient: [UInt8], time: UInt64) {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let client = TCPConnection(localPort: 50000, remoteAddress: .v4(2), remotePort: 80, initialSequence: 0xFFFF_0000, now: 0,
                                   ticksPerSecond: second)
        var server: TCPConnection?
        var now: UInt64 = 0
        link.send([client.synchronize(now: now)], toServer: true, now: now)
        var sent = 0, echoed = 0
        var atServer: [UInt8] = [], atClient: [UInt8] = []
        while atClient.count < size, now < 600 * second {
            now += 1_000
            for (toServer, segment) in link.due(at: now) {
                if toServer {
                    if server == nil, segment.has(TCPSegment.syn) {
                        server = TCPConnection(syn: segment, localPort: 80, remoteAddress: .v4(1), initialSequence: 123_456, now: now, ticksPerSecond: second)
                        link.send([server!.synAcknowledgment(now: now)], toServer: false, now: now)
                    } else if let server {
                        link.send(server.receive(segment, now: now), toServer: false, now: now)
                    }
                } else {
                    link.send(client.receive(segment, now: now), toServer: true, now: now)
                }
            }
            if client.state == .established, sent < size { sent += client.give(payload[sent...]) }
            if let server {
                let bytes = server.take(100_000)
                atServer += bytes
                if echoed < atServer.count { echoed += server.give(atServer[echoed...]) }   // echo back
                link.send(server.output(now: now), toServer: false, now: now)
            }
            atClient += client.take(100_000)
            link.send(client.output(now: now), toServer: true, now: now)
        }
        XCTAssertEqual(atServer.count, size)
        XCTAssertTrue(atServer == payload, "the server received every byte in order")
        XCTAssertTrue(atClient == payload, "and echoed them back")
        return (atServer, atClient, now)
    }

    func testOneMebibyteEchoesIntactOverACleanLink() {
        var link = Link(generator: SplitMix(seed: 1), loss: 0, duplication: 0, reordering: 0)
        let result = transfer(size: 1 << 20, over: &link)
        XCTAssertLessThan(result.time, 10 * second, "a clean link needs no timeouts")
    }

    func testOneMebibyteEchoesIntactThroughLossDuplicationAndReordering() {
        for seed in 1...3 {
            var link = Link(generator: SplitMix(seed: UInt64(seed)), loss: 30, duplication: 20, reordering: 50)
            _ = transfer(size: 1 << 20, over: &link)
            XCTAssertGreaterThan(link.dropped, 50, "the link really lost segments")
        }
    }
}

/// The TCP buffers' ring: the same bytes out as in, in order, whatever the
/// sizes and slices, while its storage grows with what it holds and shrinks
/// back to the smallest when it is empty.
final class ByteRingTests: XCTestCase {
    func testMatchesAPlainQueueAndHoldsLittleStorageWhenEmpty() {
        var ring = ByteRing(capacity: 64 * 1024)
        var model: [UInt8] = []
        var generator = SplitMix(seed: 21)
        var next: UInt8 = 0
        for _ in 0..<3000 {
            if generator.next() % 2 == 0 {
                let skipped = Int(generator.next() % 5)
                let whole = (0..<(skipped + Int(generator.next() % 9000))).map { _ -> UInt8 in next &+= 1; return next }
                let bytes = whole[skipped...]   // a slice that starts past 0, as a partly sent buffer is
                let taken = ring.append(bytes)
                XCTAssertEqual(taken, min(bytes.count, 64 * 1024 - model.count))
                model += bytes.prefix(taken)
            } else {
                let count = Int(generator.next() % 9000)
                let offset = Int(generator.next() % UInt64(model.count + 1))
                let length = Int(generator.next() % UInt64(model.count - offset + 1))
                XCTAssertEqual(Array(ring.bytes(from: offset, count: length)), Array(model[offset..<(offset + length)]),
                               "a view (or, across the ring's end, a copy) of what it holds")
                XCTAssertEqual(ring.take(count), Array(model.prefix(count)))
                model.removeFirst(min(count, model.count))
            }
            XCTAssertEqual(ring.count, model.count)
            XCTAssertEqual(ring.free, 64 * 1024 - model.count)
            if model.isEmpty { XCTAssertLessThanOrEqual(ring.storageSize, ByteRing.smallestStorage, "an empty ring holds at most the smallest storage") }
            XCTAssertLessThanOrEqual(ring.storageSize, 64 * 1024)
        }
    }
}
