/// How often an idle connection checks that its peer is still there
/// (RFC 9293 3.8.4; off unless the application asks).
public struct TCPKeepAlive: Equatable {
    /// Seconds of silence before the first probe.
    public var idleSeconds: UInt64
    /// Seconds between unanswered probes.
    public var intervalSeconds: UInt64
    /// Unanswered probes after which the connection fails with `timedOut`.
    public var probes: Int

    public init(idleSeconds: UInt64 = 7200, intervalSeconds: UInt64 = 75, probes: Int = 9) {
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.probes = probes
    }
}

/// One TCP connection (RFC 9293), opened either way. Pure: segments in,
/// segments out, a time in ticks; the stack wraps them in IP and Ethernet.
///
/// - Options: MSS, window scaling and timestamps (RFC 7323, with PAWS),
///   SACK-permitted and the receiver's SACK blocks (RFC 2018).
/// - Sending: a ring buffer kept until acknowledged; the RFC 6298
///   retransmission timer (timestamps or Karn's one timed segment);
///   NewReno congestion control; Nagle unless `noDelay`; the sender's
///   silly-window avoidance; zero-window probes; keepalive.
/// - Receiving: the acceptability test and trimming, out-of-order segments
///   kept and joined, delayed acknowledgments (every second full segment,
///   sent by the next `output` so that a batch of frames draws one, else
///   within 40 ms), window updates as the application reads.
/// - RFC 5961: resets and SYNs in the window draw a rate-limited challenge
///   ACK; acknowledgments of what was never sent are refused.
public final class TCPConnection {
    public enum State: Equatable {
        case synSent, synReceived, established, closeWait, lastAck, finWait1, finWait2, closing, timeWait, closed
    }

    public static let receiveCapacity = 64 * 1024
    public static let sendCapacity = 64 * 1024
    /// What we tell the peer it may send in one segment: Ethernet's 1500 bytes less the IPv4 and TCP headers.
    /// The largest segment an Ethernet frame (MTU 1500) carries to
    /// `address`: less IPv6's 40-byte header or IPv4's 20, and TCP's 20. What
    /// we advertise as our MSS.
    static func largestSegment(to address: IPAddress, mtu: Int = 1500) -> Int {
        if case .v6 = address { return mtu - 60 }
        return mtu - 40
    }
    /// 2 MSL with an MSL of 30 s, as Linux.
    static let timeWaitSeconds: UInt64 = 60
    static let challengeAcknowledgmentsPerSecond = 10
    static let maximumRetransmissions = 12
    static let maximumSynRetransmissions = 5
    static let maximumOutOfOrderPieces = 32
    /// Full segments received without an acknowledgment after which one goes at once, batch or not.
    static let stretchLimit = 8

    public let localPort: UInt16
    public let remoteAddress: IPAddress
    /// Our address on this connection (the stack's IPv4 address, or one of its IPv6 addresses).
    public internal(set) var localAddress: IPAddress = .v4(0)
    public let remotePort: UInt16
    public private(set) var state: State
    /// Why it closed other than by the closing handshake: reset, refused or timed out.
    public private(set) var failure: NetworkError?
    /// Send small segments at once rather than gathering them while data is unacknowledged (Nagle).
    public var noDelay = false
    public var keepAlive: TCPKeepAlive?
    let ticksPerSecond: UInt64
    let ticksPerMillisecond: UInt64

    // Send sequence space (RFC 9293 3.3.1).
    let initialSequence: UInt32
    var sendUnacknowledged: UInt32
    var sendNext: UInt32
    /// The highest sequence number sent; after a timeout, `sendNext` goes back below it.
    var sendMaximum: UInt32
    var sendWindow: UInt32 = 0
    var sendWindowSequence: UInt32 = 0
    var sendWindowAcknowledgment: UInt32 = 0
    var largestSendWindow: UInt32 = 0
    /// Bytes from `sendUnacknowledged` on: sent and unacknowledged, then unsent.
    var sendBuffer = ByteRing(capacity: TCPConnection.sendCapacity)
    var finQueued = false
    var finSent = false
    /// Our FIN's sequence number, once sent.
    var finSequence: UInt32?
    /// Where the latest segment shorter than the MSS ended, for Nagle's test.
    var smallSegmentEnd: UInt32?

    // Receive sequence space.
    var receiveNext: UInt32 = 0
    var receiveBuffer = ByteRing(capacity: TCPConnection.receiveCapacity)
    /// Segments beyond a gap, in sequence order, joined where they touch.
    var outOfOrder: [(start: UInt32, bytes: [UInt8])] = []
    /// Where the latest out-of-order segment began: its SACK block goes first.
    var latestOutOfOrder: UInt32?
    /// The peer's FIN, seen beyond a gap.
    var pendingFin: UInt32?
    public private(set) var peerClosed = false
    /// The right edge of the window last advertised.
    var advertisedEdge: UInt32 = 0

    /// The most TCP payload the network device cuts into segments itself
    /// (`NetworkOffloads.tcpSegmentation`; 0 if it cuts nothing).
    var segmentationLimit = 0

    // Negotiated in the handshake.
    var segmentSize = 536
    /// The path's MTU: the link's until a router says less (RFC 8201).
    var pathMTU = 1500
    var sendScale: UInt8 = 0
    var receiveScale: UInt8 = 0
    var timestampsOn = false
    var sackOn = false
    var recentTimestamp: UInt32 = 0
    var lastAcknowledgmentSent: UInt32 = 0

    // Timers, as deadlines in ticks.
    var now: UInt64 = 0 {
        // A 64-bit division is a library call on ARMv7: once per new reading of
        // the clock, not once per segment (the stack sets the same `now` for a batch).
        didSet { if now != oldValue { milliseconds = UInt32(truncatingIfNeeded: now / ticksPerMillisecond) } }
    }
    /// `now` in milliseconds, modulo 2^32: the timestamp option's clock.
    private(set) var milliseconds: UInt32 = 0
    var retransmitTimer: RetransmissionTimer
    var retransmitAt: UInt64?
    var retransmissions = 0
    /// Segments sent again: on timeouts, fast retransmits and partial acknowledgments.
    public private(set) var retransmittedSegments = 0 {
        didSet { Counters.retransmissions &+= 1 }
    }
    /// Karn's algorithm without timestamps: one segment sent once, timed.
    var timedSegment: (sequence: UInt32, sentAt: UInt64)?
    var congestion = NewReno(segmentSize: 536)
    var persistAt: UInt64?
    var persistBackoff: UInt64 = 1
    var delayedAcknowledgmentAt: UInt64?
    var unacknowledgedBytes = 0
    var windowUpdateOwed = false
    var lastHeard: UInt64 = 0
    var keepAliveProbesSent = 0
    var timeWaitEnds: UInt64?
    var challengeWindowStart: UInt64 = 0
    var challengesSent = 0

    /// The Ethernet address its segments come from (the peer's, or the gateway's).
    var remoteMAC = MACAddress.zero
    /// The application took it (accepted or connected) ...
    var isAccepted = false
    /// ... and has let it go (closed or aborted): once closed, the stack forgets it.
    var isReleased = false
    /// The tasks waiting on it (to read, to write, for the handshake or the
    /// close): the interface wakes them whenever a segment or a timer
    /// changes it; the state machine itself never looks at them.
    public let waiters = WaitQueue()

    /// What both opens set up: the addresses, our side's sequence numbers, the clock and the timer.
    private init(localPort: UInt16, remoteAddress: IPAddress, remotePort: UInt16, initialSequence: UInt32, state: State,
                 now: UInt64, ticksPerSecond: UInt64) {
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.initialSequence = initialSequence
        self.ticksPerSecond = ticksPerSecond
        ticksPerMillisecond = max(ticksPerSecond / 1000, 1)
        self.now = now
        milliseconds = UInt32(truncatingIfNeeded: now / ticksPerMillisecond)
        self.state = state
        sendUnacknowledged = initialSequence
        sendNext = initialSequence &+ 1
        sendMaximum = sendNext
        retransmitTimer = RetransmissionTimer(ticksPerSecond: ticksPerSecond)
        lastHeard = now
    }

    /// A passive open: a connection for a SYN from `remoteAddress`; `initialSequence` is ours.
    convenience init(syn: TCPSegment, localPort: UInt16, remoteAddress: IPAddress, initialSequence: UInt32, now: UInt64,
                     ticksPerSecond: UInt64) {
        self.init(localPort: localPort, remoteAddress: remoteAddress, remotePort: syn.sourcePort, initialSequence: initialSequence,
                  state: .synReceived, now: now, ticksPerSecond: ticksPerSecond)
        receiveNext = syn.sequence &+ 1
        sendWindow = UInt32(syn.window)   // never scaled in a SYN
        sendWindowSequence = syn.sequence
        negotiate(syn.options)
    }

    /// An active open to `remoteAddress`:`remotePort`; send `synchronize(now:)` next.
    convenience init(localPort: UInt16, remoteAddress: IPAddress, remotePort: UInt16, initialSequence: UInt32, now: UInt64,
                     ticksPerSecond: UInt64) {
        self.init(localPort: localPort, remoteAddress: remoteAddress, remotePort: remotePort, initialSequence: initialSequence,
                  state: .synSent, now: now, ticksPerSecond: ticksPerSecond)
        receiveScale = TCPConnection.ourWindowScale
    }

    /// The shift that makes our receive buffer fit the 16-bit window field.
    static var ourWindowScale: UInt8 {
        var shift: UInt8 = 0
        while receiveCapacity >> Int(shift) > 65535 { shift += 1 }
        return shift
    }

    /// Takes the peer's SYN options: each extension is on only if both sides offer it.
    func negotiate(_ options: TCPOptions) {
        if let shift = options.windowScale {
            sendScale = shift
            receiveScale = TCPConnection.ourWindowScale
        } else {
            sendScale = 0
            receiveScale = 0
        }
        sackOn = options.sackPermitted
        if let timestamp = options.timestamp {
            timestampsOn = true
            recentTimestamp = timestamp.value
        } else {
            timestampsOn = false
        }
        // RFC 9293 3.7.1: 536 when the peer says nothing; less the timestamp option carried in every segment.
        let peerSize = min(Int(options.maximumSegmentSize ?? 536), TCPConnection.largestSegment(to: remoteAddress, mtu: pathMTU))
        segmentSize = max(peerSize - (timestampsOn ? 12 : 0), 64)
        congestion = NewReno(segmentSize: segmentSize)
    }

    static func before(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
    static func after(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }


    /// The window we advertise, in the units of our scale.
    var window: UInt16 { UInt16(min(receiveBuffer.free >> Int(receiveScale), 65535)) }

    /// Two full segments or more came since the last acknowledgment: the next `output` sends one.
    var acknowledgmentOwed: Bool { unacknowledgedBytes >= 2 * segmentSize }

    var isSynchronized: Bool { state != .synSent && state != .synReceived && state != .closed }

    /// A segment from us: our acknowledgment, window, and the options every segment carries.
    func segment(_ flags: UInt8, sequence: UInt32, data: ArraySlice<UInt8> = []) -> TCPSegment {
        var options = TCPOptions()
        if timestampsOn { options.timestamp = TCPTimestamp(value: milliseconds, echo: recentTimestamp) }
        if sackOn, !outOfOrder.isEmpty { options.sackBlocks = sackBlocks() }
        noteAcknowledgmentSent()
        return TCPSegment(sourcePort: localPort, destinationPort: remotePort, sequence: sequence, acknowledgment: receiveNext,
                          flags: flags, window: window, options: options, data: data)
    }

    func noteAcknowledgmentSent() {
        lastAcknowledgmentSent = receiveNext
        advertisedEdge = receiveNext &+ UInt32(Int(window) << Int(receiveScale))
        delayedAcknowledgmentAt = nil
        unacknowledgedBytes = 0
        windowUpdateOwed = false
    }

    func acknowledgment() -> TCPSegment { segment(TCPSegment.ack, sequence: sendNext) }

    /// Our SYN (active open) or SYN-ACK (passive), with our options; the window in it is never scaled.
    func synchronize() -> TCPSegment {
        var options = TCPOptions(maximumSegmentSize: UInt16(TCPConnection.largestSegment(to: remoteAddress)))
        let active = state == .synSent
        if active || receiveScale > 0 || sendScale > 0 { options.windowScale = TCPConnection.ourWindowScale }
        if active || sackOn { options.sackPermitted = true }
        if active || timestampsOn { options.timestamp = TCPTimestamp(value: milliseconds, echo: active ? 0 : recentTimestamp) }
        if retransmitAt == nil { retransmitAt = now &+ retransmitTimer.timeout }
        lastAcknowledgmentSent = receiveNext
        return TCPSegment(sourcePort: localPort, destinationPort: remotePort, sequence: initialSequence,
                          acknowledgment: active ? 0 : receiveNext, flags: active ? TCPSegment.syn : TCPSegment.syn | TCPSegment.ack,
                          window: UInt16(min(receiveBuffer.free, 65535)), options: options)
    }

    /// The SYN-ACK that answers the SYN (and is resent until acknowledged).
    func synAcknowledgment(now: UInt64) -> TCPSegment {
        self.now = now
        return synchronize()
    }

    /// Our SYN, for an active open.
    func synchronize(now: UInt64) -> TCPSegment {
        self.now = now
        return synchronize()
    }

    // MARK: Receiving

    /// Takes an incoming segment; returns what to send at once.
    func receive(_ incoming: TCPSegment, now: UInt64) -> [TCPSegment] {
        self.now = now
        switch state {
        case .closed: return []
        case .synSent: return receiveInSynSent(incoming)
        default: break
        }
        // RFC 9293 3.10.7.4, first: is the segment in the window? If not, say where we are.
        guard isAcceptable(incoming) else { return incoming.has(TCPSegment.rst) ? [] : [acknowledgment()] }
        // PAWS (RFC 7323 5.3): an older timestamp than the latest is an old duplicate.
        if timestampsOn, let timestamp = incoming.options.timestamp, !incoming.has(TCPSegment.rst),
           TCPConnection.before(timestamp.value, recentTimestamp) {
            return [acknowledgment()]
        }
        lastHeard = now
        keepAliveProbesSent = 0
        if incoming.has(TCPSegment.rst) {
            // RFC 5961 3.2: only a reset exactly at the next expected byte counts; others in the window are challenged.
            if incoming.sequence == receiveNext { fail(state == .synReceived ? .refused : .reset); return [] }
            return challengeAcknowledgment()
        }
        if incoming.has(TCPSegment.syn) {
            // Our SYN-ACK was lost and the SYN comes again; in any other state, RFC 5961 4.2's challenge.
            if state == .synReceived, incoming.sequence &+ 1 == receiveNext { return [synchronize()] }
            return challengeAcknowledgment()
        }
        guard incoming.has(TCPSegment.ack) else { return [] }
        if timestampsOn, let timestamp = incoming.options.timestamp,
           !TCPConnection.after(incoming.sequence, lastAcknowledgmentSent) {
            recentTimestamp = timestamp.value   // RFC 7323 4.3
        }
        var replies: [TCPSegment] = []
        if state == .synReceived {
            guard TCPConnection.after(incoming.acknowledgment, sendUnacknowledged),
                  !TCPConnection.after(incoming.acknowledgment, sendMaximum) else {
                return [reset(for: incoming)]
            }
            state = .established
            sendUnacknowledged = sendUnacknowledged &+ 1   // our SYN
            retransmissions = 0
            retransmitAt = nil
            measureRoundTrip(incoming)
            updateSendWindow(incoming, force: true)
        }
        // RFC 5961 5.2: acknowledgments outside what we sent are refused.
        if TCPConnection.after(incoming.acknowledgment, sendMaximum) { return [acknowledgment()] }
        if TCPConnection.before(incoming.acknowledgment, sendUnacknowledged &- largestSendWindow) { return challengeAcknowledgment() }
        replies += processAcknowledgment(incoming)
        if state == .closed { return replies }
        if !incoming.data.isEmpty || incoming.has(TCPSegment.fin) {
            replies += receiveData(incoming)
        }
        if replies.isEmpty, windowUpdateOwed { replies.append(acknowledgment()) }
        return replies
    }

    /// RFC 9293 3.10.7.3: the answer to our SYN.
    func receiveInSynSent(_ incoming: TCPSegment) -> [TCPSegment] {
        let acknowledges = incoming.has(TCPSegment.ack)
        if acknowledges, !TCPConnection.after(incoming.acknowledgment, initialSequence) || TCPConnection.after(incoming.acknowledgment, sendNext) {
            return incoming.has(TCPSegment.rst) ? [] : [reset(for: incoming)]
        }
        if incoming.has(TCPSegment.rst) {
            if acknowledges { fail(.refused) }
            return []
        }
        guard incoming.has(TCPSegment.syn) else { return [] }
        receiveNext = incoming.sequence &+ 1
        negotiate(incoming.options)
        lastHeard = now
        if !acknowledges {
            // A simultaneous open: both sent SYNs.
            state = .synReceived
            sendWindow = UInt32(incoming.window)
            sendWindowSequence = incoming.sequence
            return [synchronize()]
        }
        sendUnacknowledged = incoming.acknowledgment
        state = .established
        retransmissions = 0
        retransmitAt = nil
        measureRoundTrip(incoming)
        sendWindow = UInt32(incoming.window)
        sendWindowSequence = incoming.sequence
        sendWindowAcknowledgment = incoming.acknowledgment
        largestSendWindow = sendWindow
        return [acknowledgment()]
    }

    /// RFC 9293's acceptability test against our receive window.
    func isAcceptable(_ incoming: TCPSegment) -> Bool {
        let room = UInt32(receiveBuffer.free)
        let length = incoming.length
        let inWindow = { (sequence: UInt32) in
            !TCPConnection.before(sequence, self.receiveNext) && TCPConnection.before(sequence, self.receiveNext &+ room)
        }
        if length == 0 { return room == 0 ? incoming.sequence == receiveNext : inWindow(incoming.sequence) }
        return room > 0 && (inWindow(incoming.sequence) || inWindow(incoming.sequence &+ length &- 1))
    }

    /// A reset for an unacceptable acknowledgment (RFC 9293 3.10.7.3).
    func reset(for incoming: TCPSegment) -> TCPSegment {
        TCPSegment(sourcePort: localPort, destinationPort: remotePort, sequence: incoming.acknowledgment, acknowledgment: 0,
                   flags: TCPSegment.rst, window: 0)
    }

    /// RFC 5961's challenge ACK, at most ten a second.
    func challengeAcknowledgment() -> [TCPSegment] {
        if now &- challengeWindowStart >= ticksPerSecond {
            challengeWindowStart = now
            challengesSent = 0
        }
        guard challengesSent < TCPConnection.challengeAcknowledgmentsPerSecond else { return [] }
        challengesSent += 1
        return [acknowledgment()]
    }

    /// The acknowledgment field: frees what was sent, times the round trip, moves the congestion
    /// window, counts duplicates and resends on the third; and the send window.
    func processAcknowledgment(_ incoming: TCPSegment) -> [TCPSegment] {
        var replies: [TCPSegment] = []
        let number = incoming.acknowledgment
        let advertised = UInt32(incoming.window) << UInt32(sendScale)
        let inFlight = Int(sendMaximum &- sendUnacknowledged)
        if TCPConnection.after(number, sendUnacknowledged) {
            let acknowledged = Int(number &- sendUnacknowledged)
            let finAcknowledged = finSequence.map { TCPConnection.after(number, $0) } ?? false
            sendBuffer.removeFirst(min(acknowledged, sendBuffer.count))
            sendUnacknowledged = number
            if TCPConnection.before(sendNext, number) { sendNext = number }
            retransmissions = 0
            persistBackoff = 1
            measureRoundTrip(incoming)
            if congestion.acknowledged(acknowledged, number: number, inFlight: inFlight) == .retransmit {
                replies.append(contentsOf: retransmission())
            }
            retransmitAt = sendUnacknowledged == sendMaximum ? nil : now &+ retransmitTimer.timeout
            if finAcknowledged {
                switch state {
                case .finWait1: state = .finWait2
                case .closing: enterTimeWait()
                case .lastAck: fail(nil)
                default: break
                }
            }
        } else if number == sendUnacknowledged, incoming.data.isEmpty, !incoming.has(TCPSegment.fin),
                  advertised == sendWindow, inFlight > 0 {
            if congestion.duplicate(inFlight: inFlight, sendMaximum: sendMaximum) == .retransmit {
                replies.append(contentsOf: retransmission())
            }
        }
        updateSendWindow(incoming, force: false)
        return replies
    }

    /// RFC 9293 3.10.7.4: take the window from the newest segment.
    func updateSendWindow(_ incoming: TCPSegment, force: Bool) {
        guard force || TCPConnection.before(sendWindowSequence, incoming.sequence)
                || (sendWindowSequence == incoming.sequence && !TCPConnection.before(incoming.acknowledgment, sendWindowAcknowledgment)) else { return }
        sendWindow = UInt32(incoming.window) << UInt32(sendScale)
        sendWindowSequence = incoming.sequence
        sendWindowAcknowledgment = incoming.acknowledgment
        largestSendWindow = max(largestSendWindow, sendWindow)
        if sendWindow > 0 { persistAt = nil }
    }

    /// RFC 6298 round-trip samples: from the echoed timestamp, else from the one timed segment.
    func measureRoundTrip(_ incoming: TCPSegment) {
        let millisecond = ticksPerMillisecond
        if timestampsOn, let echo = incoming.options.timestamp?.echo, echo != 0 {
            let elapsed = milliseconds &- echo
            if elapsed < 60_000 { retransmitTimer.measured(UInt64(elapsed) * millisecond + millisecond / 2) }
        } else if let timed = timedSegment, TCPConnection.after(incoming.acknowledgment, timed.sequence) {
            retransmitTimer.measured(now &- timed.sentAt)
            timedSegment = nil
        } else {
            retransmitTimer.restore()
        }
    }

    /// Data and FIN: trimmed to the window, delivered in order, kept if beyond a gap.
    func receiveData(_ incoming: TCPSegment) -> [TCPSegment] {
        guard state == .established || state == .finWait1 || state == .finWait2 else {
            // The peer has already closed: nothing more can come, but a repeated FIN is acknowledged.
            if state == .timeWait { timeWaitEnds = now &+ TCPConnection.timeWaitSeconds * ticksPerSecond }
            return [acknowledgment()]
        }
        var start = incoming.sequence
        var data = incoming.data
        var fin = incoming.has(TCPSegment.fin)
        if TCPConnection.before(start, receiveNext) {
            let skip = Int(receiveNext &- start)
            data = data.dropFirst(skip)
            start = receiveNext
        }
        let windowEnd = receiveNext &+ UInt32(receiveBuffer.free)
        if TCPConnection.after(start &+ UInt32(data.count), windowEnd) {
            data = data.prefix(Int(windowEnd &- start))
            fin = false
        }
        var immediately = incoming.sequence != start || fin   // a duplicate in part, or a FIN
        if start == receiveNext {
            receiveNext &+= UInt32(receiveBuffer.append(data))
            if !outOfOrder.isEmpty {
                joinOutOfOrder()
                immediately = true   // a gap filled: say so at once (RFC 5681 4.2)
            }
        } else {
            if !data.isEmpty { keepOutOfOrder(start: start, data) }
            if fin { pendingFin = start &+ UInt32(data.count) }
            return [acknowledgment()]   // a duplicate acknowledgment, with SACK blocks
        }
        if fin { pendingFin = receiveNext }
        if let finAt = pendingFin, finAt == receiveNext {
            acceptFin()
            immediately = true
        }
        unacknowledgedBytes += data.count
        if immediately || unacknowledgedBytes >= TCPConnection.stretchLimit * segmentSize { return [acknowledgment()] }
        if acknowledgmentOwed {
            // Every second full segment is acknowledged (RFC 9293 3.8.6.3), but
            // by the next `output`, which the stack calls once the device's
            // batch of frames is handled, as Linux acknowledges after GRO: one
            // acknowledgment for the batch, not one per two segments, each a
            // frame for both ends to handle.
            return []
        }
        if delayedAcknowledgmentAt == nil { delayedAcknowledgmentAt = now &+ ticksPerSecond / 25 }   // 40 ms
        return []
    }

    func acceptFin() {
        pendingFin = nil
        receiveNext &+= 1
        peerClosed = true
        switch state {
        case .established: state = .closeWait
        case .finWait1: state = finSequence.map { !TCPConnection.before(sendUnacknowledged, $0 &+ 1) } ?? false ? .timeWait : .closing
        case .finWait2: state = .timeWait
        default: break
        }
        if state == .timeWait { enterTimeWait() }
    }

    /// Keeps bytes that came beyond a gap, joined with those that touch them.
    func keepOutOfOrder(start: UInt32, _ data: ArraySlice<UInt8>) {
        var first = start
        var bytes = Array(data)
        var kept: [(start: UInt32, bytes: [UInt8])] = []
        for piece in outOfOrder {
            let pieceEnd = piece.start &+ UInt32(piece.bytes.count)
            let end = first &+ UInt32(bytes.count)
            if TCPConnection.before(pieceEnd, first) || TCPConnection.before(end, piece.start) {
                kept.append(piece)
                continue
            }
            let joinedStart = TCPConnection.before(piece.start, first) ? piece.start : first
            let joinedEnd = TCPConnection.before(pieceEnd, end) ? end : pieceEnd
            var joined = [UInt8](repeating: 0, count: Int(joinedEnd &- joinedStart))
            joined.replaceSubrange(Int(piece.start &- joinedStart)..<Int(pieceEnd &- joinedStart), with: piece.bytes)
            joined.replaceSubrange(Int(first &- joinedStart)..<Int(end &- joinedStart), with: bytes)
            first = joinedStart
            bytes = joined
        }
        guard kept.count < TCPConnection.maximumOutOfOrderPieces else { return }
        let position = kept.firstIndex { TCPConnection.after($0.start, first) } ?? kept.count
        kept.insert((first, bytes), at: position)
        outOfOrder = kept
        latestOutOfOrder = first
    }

    /// Moves the kept pieces that the in-order data now reaches into the receive buffer.
    func joinOutOfOrder() {
        while let piece = outOfOrder.first, !TCPConnection.after(piece.start, receiveNext) {
            outOfOrder.removeFirst()
            let skip = Int(receiveNext &- piece.start)
            if skip < piece.bytes.count { receiveNext &+= UInt32(receiveBuffer.append(piece.bytes[skip...])) }
        }
        if outOfOrder.isEmpty { latestOutOfOrder = nil }
    }

    /// RFC 2018 4: the block with the latest segment first, then the others in order.
    func sackBlocks() -> [SACKBlock] {
        var blocks = outOfOrder.map { SACKBlock(start: $0.start, end: $0.start &+ UInt32($0.bytes.count)) }
        if let latest = latestOutOfOrder,
           let index = blocks.firstIndex(where: { !TCPConnection.after($0.start, latest) && TCPConnection.before(latest, $0.end) }) {
            blocks.insert(blocks.remove(at: index), at: 0)
        }
        return Array(blocks.prefix(4))
    }

    // MARK: Sending

    /// What is due now: resends on timeout, zero-window and keepalive probes,
    /// new data and a FIN as the windows allow, and a delayed acknowledgment.
    func output(now: UInt64) -> [TCPSegment] {
        self.now = now
        switch state {
        case .closed: return []
        case .timeWait:
            if let ends = timeWaitEnds, now >= ends { fail(nil) }
            return []
        default: break
        }
        var segments: [TCPSegment] = []
        if let deadline = retransmitAt, now >= deadline {
            segments += retransmissionTimeout()
            if state == .closed || state == .synSent || state == .synReceived { return segments }
        }
        if state == .synSent || state == .synReceived { return segments }
        if let deadline = persistAt, now >= deadline {
            // A zero-window probe: below the window, so the peer answers with its window.
            segments.append(segment(TCPSegment.ack, sequence: sendUnacknowledged &- 1))
            persistBackoff = min(persistBackoff * 2, 60)
            persistAt = now &+ min(retransmitTimer.timeout * persistBackoff, 60 * ticksPerSecond)
        }
        segments += keepAliveProbe()
        if state == .closed { return segments }
        segments += newData()
        if segments.isEmpty, windowUpdateOwed || acknowledgmentOwed || (delayedAcknowledgmentAt.map { now >= $0 } ?? false) {
            segments.append(acknowledgment())
        }
        return segments
    }

    /// The retransmission timer expired: back off, and resend from the oldest unacknowledged byte.
    func retransmissionTimeout() -> [TCPSegment] {
        retransmissions += 1
        let limit = isSynchronized ? TCPConnection.maximumRetransmissions : TCPConnection.maximumSynRetransmissions
        guard retransmissions <= limit else {
            fail(.timedOut)
            return []
        }
        retransmitTimer.backOff()
        retransmitAt = nil
        timedSegment = nil
        retransmittedSegments += 1
        if state == .synSent || state == .synReceived { return [synchronize()] }
        congestion.timedOut(inFlight: Int(sendMaximum &- sendUnacknowledged))
        sendNext = sendUnacknowledged
        finSent = false
        return []
    }

    /// A router on the path can forward at most `mtu` bytes (RFC 8201's
    /// Packet Too Big): segments shrink to fit, and what was in flight, which
    /// that router dropped, goes again at once in smaller segments. Not a
    /// sign of congestion, so the window stays.
    func pathMTUShrank(to mtu: Int) -> [TCPSegment] {
        guard mtu < pathMTU else { return [] }
        pathMTU = mtu
        let fits = max(TCPConnection.largestSegment(to: remoteAddress, mtu: mtu) - (timestampsOn ? 12 : 0), 64)
        guard fits < segmentSize else { return [] }
        segmentSize = fits
        guard isSynchronized, sendNext != sendUnacknowledged else { return [] }
        timedSegment = nil   // Karn: what is sent again is not timed
        retransmittedSegments += 1
        sendNext = sendUnacknowledged
        finSent = false
        return newData()
    }

    /// The oldest unacknowledged segment again, for fast retransmit and partial acknowledgments.
    func retransmission() -> [TCPSegment] {
        timedSegment = nil
        retransmittedSegments += 1
        retransmitAt = now &+ retransmitTimer.timeout
        let count = min(sendBuffer.count, segmentSize)
        if count > 0 {
            return [segment(TCPSegment.ack, sequence: sendUnacknowledged, data: sendBuffer.bytes(from: 0, count: count))]
        }
        if let finSequence, finSequence == sendUnacknowledged {
            return [segment(TCPSegment.fin | TCPSegment.ack, sequence: finSequence)]
        }
        return []
    }

    /// The most payload one segment the stack sends may carry: the segment
    /// size, or several where the device cuts them and the segments are the
    /// link MTU's size (the device cuts at the MTU; a smaller MSS or a path
    /// MTU a router reported keeps segments as they are).
    var largestSend: Int {
        let linkSegment = TCPConnection.largestSegment(to: remoteAddress) - (timestampsOn ? 12 : 0)
        guard segmentationLimit > segmentSize, segmentSize == linkSegment, pathMTU == 1500 else { return segmentSize }
        return segmentationLimit - segmentationLimit % segmentSize
    }

    /// New (or, after a timeout, resent) data within the send and congestion windows, then the FIN.
    func newData() -> [TCPSegment] {
        guard state == .established || state == .closeWait || state == .finWait1 || state == .lastAck || state == .closing else { return [] }
        var segments: [TCPSegment] = []
        while true {
            let inFlight = Int(sendNext &- sendUnacknowledged)
            let unsent = sendBuffer.count - min(inFlight, sendBuffer.count)
            guard unsent > 0 else { break }
            let room = min(Int(sendWindow), congestion.window) - inFlight
            var count = min(unsent, largestSend, room)
            // Several segments in one for the device to cut: whole segments, unless it is the tail.
            if count > segmentSize, count < unsent { count -= count % segmentSize }
            if count <= 0 {
                if sendWindow == 0, inFlight == 0, persistAt == nil { persistAt = now &+ retransmitTimer.timeout }
                break
            }
            if count < segmentSize, inFlight > 0 {
                // Nagle (RFC 9293 3.7.4) in Minshall's form, as Linux: gather a small tail while an earlier
                // small segment is unacknowledged, unless asked not to or closing. A response's last piece
                // thus goes out at once instead of waiting for the peer's delayed acknowledgment.
                let smallOutstanding = smallSegmentEnd.map { TCPConnection.after($0, sendUnacknowledged) } ?? false
                if count == unsent, smallOutstanding, !noDelay, !finQueued { break }
                // The sender's silly-window avoidance: a window-limited sliver waits for more room.
                if count < unsent, UInt32(count) < largestSendWindow / 2 { break }
            }
            let isLast = count == unsent
            segments.append(segment(isLast ? TCPSegment.ack | TCPSegment.psh : TCPSegment.ack, sequence: sendNext,
                                    data: sendBuffer.bytes(from: inFlight, count: count)))
            if timedSegment == nil, !timestampsOn, !TCPConnection.before(sendNext, sendMaximum) { timedSegment = (sendNext, now) }
            sendNext &+= UInt32(count)
            if count < segmentSize { smallSegmentEnd = sendNext }
            if TCPConnection.after(sendNext, sendMaximum) { sendMaximum = sendNext }
            if retransmitAt == nil { retransmitAt = now &+ retransmitTimer.timeout }
        }
        if finQueued, !finSent, sendNext == sendUnacknowledged &+ UInt32(sendBuffer.count) {
            segments.append(segment(TCPSegment.fin | TCPSegment.ack, sequence: sendNext))
            finSequence = sendNext
            sendNext &+= 1
            finSent = true
            if TCPConnection.after(sendNext, sendMaximum) { sendMaximum = sendNext }
            if retransmitAt == nil { retransmitAt = now &+ retransmitTimer.timeout }
        }
        return segments
    }

    /// RFC 9293 3.8.4: after `idleSeconds` of silence a probe below the window, then one each
    /// interval; the connection fails after `probes` go unanswered.
    func keepAliveProbe() -> [TCPSegment] {
        guard let keepAlive, state == .established || state == .closeWait, sendNext == sendUnacknowledged else { return [] }
        let due = lastHeard &+ (keepAlive.idleSeconds + UInt64(keepAliveProbesSent) * keepAlive.intervalSeconds) * ticksPerSecond
        guard now >= due else { return [] }
        guard keepAliveProbesSent < keepAlive.probes else {
            fail(.timedOut)
            return []
        }
        keepAliveProbesSent += 1
        return [segment(TCPSegment.ack, sequence: sendUnacknowledged &- 1)]
    }

    /// The earliest time something is due, for the stack's sleep.
    var nextDeadline: UInt64? {
        var deadlines = [retransmitAt, persistAt, acknowledgmentOwed ? now : delayedAcknowledgmentAt, timeWaitEnds].compactMap { $0 }
        if let keepAlive, state == .established || state == .closeWait {
            deadlines.append(lastHeard &+ (keepAlive.idleSeconds + UInt64(keepAliveProbesSent) * keepAlive.intervalSeconds) * ticksPerSecond)
        }
        return deadlines.min()
    }

    func enterTimeWait() {
        state = .timeWait
        timeWaitEnds = now &+ TCPConnection.timeWaitSeconds * ticksPerSecond
        retransmitAt = nil
        persistAt = nil
        sendBuffer.release()
        outOfOrder = []
    }

    /// Closed: `failure` says why, nil for an orderly close.
    func fail(_ reason: NetworkError?) {
        state = .closed
        if failure == nil { failure = reason }
        retransmitAt = nil
        persistAt = nil
        delayedAcknowledgmentAt = nil
        timeWaitEnds = nil
        sendBuffer.release()
        outOfOrder = []
        if !isAccepted || receiveBuffer.isEmpty { receiveBuffer.release() }   // unread data stays for the application
    }

    // MARK: The application's side

    /// Received bytes, at most `count`, taken from the buffer; owes the peer a
    /// window update once the window has opened by a useful amount.
    func take(_ count: Int) -> [UInt8] {
        let taken = receiveBuffer.take(count)
        let edge = receiveNext &+ UInt32(receiveBuffer.free)
        if !taken.isEmpty, isSynchronized,
           Int(Int32(bitPattern: edge &- advertisedEdge)) >= min(TCPConnection.receiveCapacity / 2, 2 * segmentSize) {
            windowUpdateOwed = true
        }
        return taken
    }

    /// Received bytes wait to be read.
    public var hasData: Bool { !receiveBuffer.isEmpty }

    /// Room left in the send buffer.
    public var sendSpace: Int { sendBuffer.free }

    /// How many bytes of `data` the send buffer took.
    func give(_ data: ArraySlice<UInt8>) -> Int {
        guard !finQueued, state == .established || state == .closeWait else { return 0 }
        return sendBuffer.append(data)
    }

    /// Queues our FIN after what is buffered.
    func close() {
        guard !finQueued else { return }
        switch state {
        case .synSent:
            fail(nil)
            return
        case .established, .synReceived: state = .finWait1
        case .closeWait: state = .lastAck
        default: return
        }
        finQueued = true
    }

    /// Drops the connection at once with a reset (RFC 9293 3.10.5, ABORT).
    func abort() -> TCPSegment? {
        let wasSynchronized = isSynchronized && state != .timeWait
        let reset = TCPSegment(sourcePort: localPort, destinationPort: remotePort, sequence: sendNext, acknowledgment: 0,
                               flags: TCPSegment.rst, window: 0)
        fail(.reset)
        return wasSynchronized ? reset : nil
    }

    /// A window update owed to the peer, if any.
    func pendingAcknowledgment() -> TCPSegment? {
        windowUpdateOwed ? acknowledgment() : nil
    }
}
