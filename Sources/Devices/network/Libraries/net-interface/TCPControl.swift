/// The retransmission timeout of RFC 6298: a smoothed round-trip time and
/// its variation from measurements, doubled on each expiry. Times in ticks.
struct RetransmissionTimer {
    let ticksPerSecond: UInt64
    private(set) var smoothed: UInt64?
    private(set) var variation: UInt64 = 0
    /// The current timeout, backed off.
    private(set) var timeout: UInt64

    /// RFC 6298 2.4 asks for at least a second; like Linux, 200 ms, since
    /// the networks a unikernel meets (QEMU's, a LAN) answer in far less.
    var minimum: UInt64 { ticksPerSecond / 5 }
    var maximum: UInt64 { 60 * ticksPerSecond }

    init(ticksPerSecond: UInt64) {
        self.ticksPerSecond = ticksPerSecond
        timeout = ticksPerSecond   // 2.1: one second before any measurement
    }

    /// 2.2 and 2.3: a round trip measured on a segment sent once.
    mutating func measured(_ roundTrip: UInt64) {
        if let smoothed {
            let difference = smoothed > roundTrip ? smoothed - roundTrip : roundTrip - smoothed
            variation = (3 * variation + difference) / 4
            self.smoothed = (7 * smoothed + roundTrip) / 8
        } else {
            smoothed = roundTrip
            variation = roundTrip / 2
        }
        timeout = min(max(smoothed! + max(1, 4 * variation), minimum), maximum)
    }

    /// 5.5: the timer expired; wait twice as long next time.
    mutating func backOff() { timeout = min(timeout * 2, maximum) }

    /// After a back-off, an acknowledgment of new data brings the estimate back (5.7 keeps the back-off
    /// until a new measurement; a measurement follows at once with timestamps).
    mutating func restore() {
        if let smoothed { timeout = min(max(smoothed + max(1, 4 * variation), minimum), maximum) }
    }
}

/// NewReno congestion control (RFC 5681 slow start and congestion
/// avoidance, RFC 6582 fast retransmit and fast recovery), in bytes.
struct NewReno {
    let segmentSize: Int
    /// cwnd: how much may be in flight.
    private(set) var window: Int
    /// ssthresh: slow start below it, congestion avoidance above.
    private(set) var threshold = Int(Int32.max)
    private(set) var duplicates = 0
    /// In fast recovery until this sequence number is acknowledged.
    private(set) var recover: UInt32?
    /// Bytes acknowledged in congestion avoidance, toward the next whole segment of growth.
    private var acknowledgedInAvoidance = 0

    /// RFC 6928's initial window: ten segments, at most 14,600 bytes.
    init(segmentSize: Int) {
        self.segmentSize = segmentSize
        window = min(10 * segmentSize, max(2 * segmentSize, 14_600))
    }

    var inRecovery: Bool { recover != nil }

    enum Action: Equatable {
        case none
        /// Resend the oldest unacknowledged segment now.
        case retransmit
    }

    /// New data acknowledged: `acknowledged` bytes, the acknowledgment `number`, and what was in flight before.
    mutating func acknowledged(_ acknowledged: Int, number: UInt32, inFlight: Int) -> Action {
        duplicates = 0
        if let recover {
            if TCPConnection.before(number, recover) {
                // A partial acknowledgment (RFC 6582 3.2 step 3): resend the next hole, deflate.
                window = max(window - acknowledged + segmentSize, segmentSize)
                return .retransmit
            }
            // A full acknowledgment: recovery is over.
            window = min(threshold, max(inFlight - acknowledged, segmentSize) + segmentSize)
            self.recover = nil
            return .none
        }
        if window < threshold {
            window += min(acknowledged, segmentSize)   // slow start (RFC 5681 3.1, with RFC 3465's L = 1 SMSS)
        } else {
            acknowledgedInAvoidance += acknowledged
            if acknowledgedInAvoidance >= window {
                acknowledgedInAvoidance -= window
                window += segmentSize
            }
        }
        return .none
    }

    /// A duplicate acknowledgment while `inFlight` bytes are out and the highest sent is `sendMaximum`.
    mutating func duplicate(inFlight: Int, sendMaximum: UInt32) -> Action {
        duplicates += 1
        if inRecovery {
            window += segmentSize   // each duplicate means a segment has left the network
            return .none
        }
        guard duplicates == 3 else { return .none }
        threshold = max(inFlight / 2, 2 * segmentSize)
        window = threshold + 3 * segmentSize
        recover = sendMaximum
        return .retransmit
    }

    /// The retransmission timer expired (RFC 5681 3.1, equation 4): back to one segment.
    mutating func timedOut(inFlight: Int) {
        threshold = max(inFlight / 2, 2 * segmentSize)
        window = segmentSize
        duplicates = 0
        recover = nil
        acknowledgedInAvoidance = 0
    }
}
