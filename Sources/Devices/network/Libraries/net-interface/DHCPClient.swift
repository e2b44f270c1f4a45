/// The DHCP client (RFC 2131) as a state machine with a time: DISCOVER,
/// OFFER, REQUEST, ACK (3.1), four tries with growing waits (1, 2, 3, 4 s);
/// then renewal at half the lease (4.4.5, T1), a REQUEST a minute until
/// the server acknowledges. `poll` says what to send when; `take` takes
/// the server's answers. The interface sends and applies.
struct DHCPClient {
    enum Phase {
        case discovering
        case requesting(offer: DHCPMessage)
        case bound
        case failed
    }

    /// What a server's answer calls for.
    enum Outcome {
        case nothing
        /// Send this REQUEST.
        case request(DHCPMessage)
        /// A lease: take its address, mask and router.
        case bound(DHCPMessage)
    }

    let transaction: UInt32
    var phase = Phase.discovering
    var attempt = 0
    /// When the current phase sends (again) or gives up; at once to begin with.
    var nextSend: UInt64 = 0
    var renewAt: UInt64?
    /// The server that gave the lease.
    var server: UInt32?

    static let attempts = 4

    init(transaction: UInt32) { self.transaction = transaction }

    var isBound: Bool { if case .bound = phase { return true } else { return false } }
    var hasFailed: Bool { if case .failed = phase { return true } else { return false } }

    var nextDeadline: UInt64? {
        switch phase {
        case .discovering, .requesting: return nextSend
        case .bound: return renewAt
        case .failed: return nil
        }
    }

    /// The message due at `now`, if any.
    mutating func poll(now: UInt64, ticksPerSecond: UInt64, hardwareAddress: MACAddress, address: UInt32) -> DHCPMessage? {
        switch phase {
        case .requesting:
            guard now >= nextSend else { return nil }
            phase = .discovering        // no ACK in time: start over
            return poll(now: now, ticksPerSecond: ticksPerSecond, hardwareAddress: hardwareAddress, address: address)
        case .discovering:
            guard now >= nextSend else { return nil }
            guard attempt < DHCPClient.attempts else {
                phase = .failed
                return nil
            }
            attempt += 1
            nextSend = now &+ UInt64(attempt) * ticksPerSecond
            return DHCPMessage(type: DHCPMessage.discover, transaction: transaction, hardwareAddress: hardwareAddress)
        case .bound:
            guard let due = renewAt, now >= due, server != nil else { return nil }
            renewAt = now &+ 60 * ticksPerSecond     // again in a minute until acknowledged
            var request = DHCPMessage(type: DHCPMessage.request, transaction: transaction, hardwareAddress: hardwareAddress)
            request.clientAddress = address
            return request
        case .failed:
            return nil
        }
    }

    /// A server's answer to our transaction.
    mutating func take(_ message: DHCPMessage, now: UInt64, ticksPerSecond: UInt64) -> Outcome {
        switch (phase, message.type) {
        case (.discovering, DHCPMessage.offer) where message.yourAddress != 0:
            phase = .requesting(offer: message)
            nextSend = now &+ UInt64(max(attempt, 1)) * ticksPerSecond
            var request = DHCPMessage(type: DHCPMessage.request, transaction: transaction, hardwareAddress: message.hardwareAddress)
            request.requestedAddress = message.yourAddress
            request.server = message.server
            return .request(request)
        case (.requesting, DHCPMessage.acknowledge), (.bound, DHCPMessage.acknowledge):
            phase = .bound
            server = message.server ?? server
            let lease = UInt64(message.leaseSeconds ?? 3600)
            renewAt = now &+ lease / 2 * ticksPerSecond
            return .bound(message)
        case (.requesting, DHCPMessage.negative):
            phase = .discovering
            nextSend = now
            return .nothing
        default:
            return .nothing
        }
    }
}
