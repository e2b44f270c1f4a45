/// One TCP connection (RFC 9293), opened passively: the state machine,
/// sequence numbers, a send buffer kept until acknowledged and resent on
/// a retransmission timeout that doubles (RFC 6298's back-off), in-order
/// receipt into a bounded buffer whose free space is the window, and the
/// closing handshakes. Pure: segments in, segments out, a time in ticks;
/// the stack wraps them in IPv4 and Ethernet.
///
/// Not yet: congestion control, window scaling, timestamps, SACK, keeping
/// out-of-order segments (they are dropped and the peer resends), and
/// active opens.
public final class TCPConnection {
    public enum State: Equatable {
        case synReceived, established, closeWait, lastAck, finWait1, finWait2, closing, timeWait, closed
    }

    public let localPort: UInt16
    public let remoteAddress: UInt32
    public let remotePort: UInt16
    public private(set) var state: State = .synReceived
    let initialSequence: UInt32
    var sendUnacknowledged: UInt32
    var sendNext: UInt32
    var receiveNext: UInt32
    var peerWindow: UInt32
    var segmentSize: Int
    /// Bytes from `sendUnacknowledged` on: sent and unacknowledged, then unsent.
    var sendBuffer: [UInt8] = []
    var receiveBuffer: [UInt8] = []
    var finQueued = false
    var finSent = false
    /// The Ethernet address its segments come from (the peer's, or the gateway's).
    var remoteMAC: [UInt8] = [0, 0, 0, 0, 0, 0]
    /// The application has taken it from the accept queue.
    var isAccepted = false
    public private(set) var peerClosed = false
    var retransmitAt: UInt64?
    var timeout: UInt64
    let ticksPerSecond: UInt64
    var acknowledgmentOwed = false
    var closedAt: UInt64?

    public static let receiveCapacity = 16 * 1024
    public static let sendCapacity = 32 * 1024

    /// A connection for a SYN from `remoteAddress`:`remotePort`; `initialSequence` is ours.
    init(syn: TCPSegment, localPort: UInt16, remoteAddress: UInt32, initialSequence: UInt32, ticksPerSecond: UInt64) {
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        remotePort = syn.sourcePort
        self.initialSequence = initialSequence
        sendUnacknowledged = initialSequence
        sendNext = initialSequence &+ 1
        receiveNext = syn.sequence &+ 1
        peerWindow = UInt32(syn.window)
        segmentSize = Int(min(syn.maximumSegmentSize ?? 536, 1460))
        self.ticksPerSecond = ticksPerSecond
        timeout = ticksPerSecond   // RFC 6298: 1 s before any measurement
    }

    static func before(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

    var window: UInt16 { UInt16(min(TCPConnection.receiveCapacity - receiveBuffer.count, 65535)) }

    func segment(_ flags: UInt8, sequence: UInt32, data: [UInt8] = [], mss: UInt16? = nil) -> TCPSegment {
        TCPSegment(sourcePort: localPort, destinationPort: remotePort, sequence: sequence, acknowledgment: receiveNext,
                   flags: flags, window: window, maximumSegmentSize: mss, data: data)
    }

    /// The SYN-ACK that answers the SYN (and is resent until acknowledged).
    func synAcknowledgment(now: UInt64) -> TCPSegment {
        retransmitAt = now &+ timeout
        return segment(TCPSegment.syn | TCPSegment.ack, sequence: initialSequence, mss: 1460)
    }

    /// Takes an incoming segment; returns what to send at once.
    func receive(_ incoming: TCPSegment, now: UInt64) -> [TCPSegment] {
        if incoming.has(TCPSegment.rst) {
            // Only a reset in the window counts (RFC 5961 asks for more; this is its core).
            if incoming.sequence == receiveNext || state == .synReceived { state = .closed }
            return []
        }
        if incoming.has(TCPSegment.syn) {
            // A repeated SYN: the SYN-ACK was lost.
            return state == .synReceived ? [synAcknowledgment(now: now)] : [segment(TCPSegment.ack, sequence: sendNext)]
        }
        guard incoming.has(TCPSegment.ack) else { return [] }
        acknowledge(incoming.acknowledgment, now: now)
        peerWindow = UInt32(incoming.window)
        var replies: [TCPSegment] = []
        if incoming.sequence != receiveNext {
            // Out of order or a duplicate: dropped, and our position said again.
            if incoming.length > 0 { replies.append(segment(TCPSegment.ack, sequence: sendNext)) }
            return replies
        }
        if !incoming.data.isEmpty, state == .established || state == .finWait1 || state == .finWait2 {
            let room = TCPConnection.receiveCapacity - receiveBuffer.count
            let taken = min(room, incoming.data.count)
            receiveBuffer += incoming.data.prefix(taken)
            receiveNext &+= UInt32(taken)
            acknowledgmentOwed = true
            if taken < incoming.data.count { return [segment(TCPSegment.ack, sequence: sendNext)] }
        }
        if incoming.has(TCPSegment.fin) && !peerClosed {
            receiveNext &+= 1
            peerClosed = true
            acknowledgmentOwed = true
            switch state {
            case .established: state = .closeWait
            case .finWait1: state = sendUnacknowledged == sendNext ? .timeWait : .closing
            case .finWait2: state = .timeWait
            default: break
            }
            if state == .timeWait { closedAt = now }
        }
        if acknowledgmentOwed {
            acknowledgmentOwed = false
            replies.append(segment(TCPSegment.ack, sequence: sendNext))
        }
        return replies
    }

    /// Moves the left edge of what is unacknowledged.
    func acknowledge(_ number: UInt32, now: UInt64) {
        guard TCPConnection.before(sendUnacknowledged, number), !TCPConnection.before(sendNext, number) else { return }
        var advanced = number &- sendUnacknowledged
        if state == .synReceived {
            state = .established
            advanced -= 1
        }
        let finAcknowledged = finSent && number == sendNext
        sendBuffer.removeFirst(min(sendBuffer.count, Int(advanced)))
        sendUnacknowledged = number
        timeout = ticksPerSecond
        retransmitAt = sendUnacknowledged == sendNext ? nil : now &+ timeout
        if finAcknowledged {
            switch state {
            case .finWait1: state = .finWait2
            case .closing: state = .timeWait; closedAt = now
            case .lastAck: state = .closed
            default: break
            }
        }
    }

    /// New data and a FIN as the peer's window allows, and resends on timeout.
    func output(now: UInt64) -> [TCPSegment] {
        var segments: [TCPSegment] = []
        if state == .timeWait, let closedAt, now &- closedAt > ticksPerSecond { state = .closed }
        if let deadline = retransmitAt, now >= deadline {
            // Go back to the oldest unacknowledged byte; the timeout doubles, to a minute at most.
            timeout = min(timeout * 2, 60 * ticksPerSecond)
            if state == .synReceived { return [synAcknowledgment(now: now)] }
            sendNext = sendUnacknowledged
            finSent = false
            retransmitAt = nil
        }
        guard state == .established || state == .closeWait || state == .finWait1 || state == .lastAck || state == .closing else {
            return segments
        }
        while true {
            let inFlight = Int(sendNext &- sendUnacknowledged)
            let unsent = sendBuffer.count - min(inFlight, sendBuffer.count)
            let room = Int(peerWindow) - inFlight
            guard unsent > 0, room > 0 else { break }
            let count = min(unsent, room, segmentSize)
            let start = sendBuffer.count - unsent
            segments.append(segment(TCPSegment.ack | TCPSegment.psh, sequence: sendNext, data: Array(sendBuffer[start..<(start + count)])))
            sendNext &+= UInt32(count)
            if retransmitAt == nil { retransmitAt = now &+ timeout }
        }
        if finQueued, !finSent, sendNext == sendUnacknowledged &+ UInt32(sendBuffer.count) {
            segments.append(segment(TCPSegment.fin | TCPSegment.ack, sequence: sendNext))
            sendNext &+= 1
            finSent = true
            if retransmitAt == nil { retransmitAt = now &+ timeout }
        }
        return segments
    }

    // The application's side.

    /// Received bytes, at most `count`, taken from the buffer.
    func take(_ count: Int) -> [UInt8] {
        let taken = Array(receiveBuffer.prefix(count))
        let wasFull = receiveBuffer.count >= TCPConnection.receiveCapacity - segmentSize
        receiveBuffer.removeFirst(taken.count)
        if wasFull && !taken.isEmpty { acknowledgmentOwed = true }   // a window update
        return taken
    }

    var hasData: Bool { !receiveBuffer.isEmpty }

    /// How many bytes of `data` the send buffer took.
    func give(_ data: ArraySlice<UInt8>) -> Int {
        guard !finQueued, state == .established || state == .closeWait else { return 0 }
        let room = TCPConnection.sendCapacity - sendBuffer.count
        let count = min(room, data.count)
        sendBuffer += data.prefix(count)
        return count
    }

    /// Queues our FIN after what is buffered.
    func close() {
        guard !finQueued else { return }
        finQueued = true
        switch state {
        case .established, .synReceived: state = .finWait1
        case .closeWait: state = .lastAck
        default: break
        }
    }

    /// A window update owed to the peer, if any.
    func pendingAcknowledgment() -> TCPSegment? {
        guard acknowledgmentOwed else { return nil }
        acknowledgmentOwed = false
        return segment(TCPSegment.ack, sequence: sendNext)
    }
}
