/// Session tickets and resumption (RFC 8446 sections 4.6.1 and 4.2.11). The
/// server: after each full handshake it sends one NewSessionTicket, a
/// ticket that holds the session's PSK sealed with the server's ticket key
/// (ChaCha20-Poly1305, so the server keeps no state); a later ClientHello
/// offering the ticket with psk_dhe_ke resumes with a fresh (EC)DHE and no
/// certificate, once its binder checks. The client: it keeps the newest
/// ticket a server sent as a TLSSession, and offers it, with its binder, to
/// the same server name while it is young enough.

/// A session a client may resume: a server's ticket and the PSK it stands for.
public struct TLSSession {
    let suite: TLSCipherSuite
    let ticket: [UInt8]
    let psk: [UInt8]
    let ageAdd: UInt32
    /// Seconds the server lets the ticket be used (at most 7 days).
    let lifetime: UInt32
    /// When it came, in seconds since 1970 on the client's wall clock.
    let received: Int64
    /// The server name the session was made with; it resumes for that name only (section 4.6.1).
    public let serverName: String

    /// Whether it may be offered at `now`: from its arrival to the end of its lifetime.
    func isUsable(at now: Int64) -> Bool { now >= received && now - received < Int64(lifetime) }

    /// obfuscated_ticket_age: its age in milliseconds plus the server's age_add, modulo 2^32.
    func obfuscatedAge(at now: Int64) -> UInt32 { UInt32(truncatingIfNeeded: (now - received) * 1000) &+ ageAdd }
}

/// The pre_shared_key extension of a ClientHello.
struct PSKOffer {
    var identities: [(ticket: [UInt8], obfuscatedAge: UInt32)] = []
    var binders: [[UInt8]] = []
    /// The ClientHello up to its binders, which the binders are a MAC of.
    var truncatedHello: [UInt8] = []

    init(_ data: inout TLSReader, message: [UInt8]) throws(TLSAlert) {
        var list = try data.vector(lengthBytes: 2)
        while !list.isAtEnd {
            var identity = try list.vector(lengthBytes: 2)
            guard !identity.isAtEnd else { throw .decodeError }
            identities.append((identity.rest(), try list.unsigned(UInt32.self)))
        }
        let bindersStart = data.offset
        var binderList = try data.vector(lengthBytes: 2)
        while !binderList.isAtEnd {
            var binder = try binderList.vector(lengthBytes: 1)
            guard binder.remaining >= 32 else { throw .decodeError }
            binders.append(binder.rest())
        }
        guard !identities.isEmpty, identities.count == binders.count else { throw .illegalParameter }
        truncatedHello = Array(message[..<bindersStart])
    }
}

/// What a ticket holds, sealed.
struct SessionTicket {
    var suite: TLSCipherSuite
    var issued: UInt64
    var ageAdd: UInt32
    var psk: [UInt8]

    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendInteger(suite.rawValue, bytes: 2)
        bytes.appendInteger(issued, bytes: 8)
        bytes.appendInteger(ageAdd, bytes: 4)
        bytes.appendVector(psk, lengthBytes: 1)
        return bytes
    }

    init(suite: TLSCipherSuite, issued: UInt64, ageAdd: UInt32, psk: [UInt8]) {
        self.suite = suite; self.issued = issued; self.ageAdd = ageAdd; self.psk = psk
    }

    init?(_ bytes: [UInt8]) {
        var reader = TLSReader(bytes)
        do throws(TLSAlert) {
            guard let suite = TLSCipherSuite(rawValue: try reader.uint16()) else { return nil }
            self.suite = suite
            issued = try reader.unsigned(UInt64.self)
            ageAdd = try reader.unsigned(UInt32.self)
            var psk = try reader.vector(lengthBytes: 1)
            self.psk = psk.rest()
            guard reader.isAtEnd else { return nil }
        } catch {
            return nil
        }
    }
}

extension TLSServer {
    /// A NewSessionTicket record for the session just established (under the
    /// server's application keys), or nothing if tickets are off.
    mutating func newSessionTicket() -> [UInt8] {
        guard configuration.ticketKey.count == 32, let suite, records.writeProtection != nil else { return [] }
        let ticketNonce: [UInt8] = [0]                    // one ticket per connection
        let psk = TLSKeySchedule.resumptionPSK(suite: suite, masterSecret: masterSecret, transcript: transcript, nonce: ticketNonce)
        let ageAdd = random(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let sealNonce = random(12)
        let sealed = sealNonce + ChaCha20Poly1305.seal(SessionTicket(suite: suite, issued: seconds(), ageAdd: ageAdd, psk: psk).bytes,
                                                       key: configuration.ticketKey, nonce: sealNonce, additionalData: [])
        var body: [UInt8] = []
        body.appendInteger(configuration.ticketLifetime, bytes: 4)
        body.appendInteger(ageAdd, bytes: 4)
        body.appendVector(ticketNonce, lengthBytes: 1)
        body.appendVector(sealed, lengthBytes: 2)
        body.appendVector([], lengthBytes: 2)
        return records.records(handshakeMessage(4, body), type: TLSContentType.handshake)
    }

    /// The PSK of the ClientHello's first identity if it is a ticket of
    /// this server, for `suite`'s hash, within its lifetime, offered for
    /// psk_dhe_ke; nil (a full handshake) otherwise. A ticket that opens
    /// but whose binder does not match ends the handshake: decrypt_error.
    func acceptedPSK(_ hello: ClientHello, suite: TLSCipherSuite, transcriptBefore: [UInt8]) throws(TLSAlert) -> [UInt8]? {
        guard configuration.ticketKey.count == 32, let offer = hello.pskOffer else { return nil }
        guard let modes = hello.pskModes else { throw .missingExtension }
        let sealed = offer.identities[0].ticket
        guard modes.contains(1), sealed.count > 12,
              let opened = ChaCha20Poly1305.open(Array(sealed[12...]), key: configuration.ticketKey, nonce: Array(sealed[..<12]),
                                                 additionalData: []),
              let ticket = SessionTicket(opened), ticket.suite.hashSize == suite.hashSize,
              seconds() >= ticket.issued, seconds() - ticket.issued <= UInt64(configuration.ticketLifetime) else { return nil }
        let expected = TLSKeySchedule.binder(suite: suite, psk: ticket.psk, transcript: transcriptBefore + offer.truncatedHello)
        guard constantTimeEqual(expected, offer.binders[0]) else { throw .decryptError }
        return ticket.psk
    }
}
