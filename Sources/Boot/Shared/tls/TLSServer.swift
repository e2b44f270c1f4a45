/// What a server is given and chooses with.
public struct TLSServerConfiguration {
    /// The certificates it can present, each with its key; the first is the
    /// default, for a client that names no host or one none of them names
    /// (as nginx's default_server). Never empty.
    public var identities: [TLSIdentity]
    /// Cipher suites in the server's order of preference: ChaCha20-Poly1305
    /// first, since AES here is bit-sliced software (see AES).
    public var cipherSuites: [TLSCipherSuite]
    /// ALPN protocol names (RFC 7301) in order of preference; empty: no ALPN.
    public var applicationProtocols: [String]
    /// The key session tickets are sealed with (32 random bytes, one per
    /// boot, shared by every connection); empty: no tickets, no resumption.
    public var ticketKey: [UInt8] = []
    /// How long a ticket may be used, in seconds (RFC 8446 allows up to 7 days).
    public var ticketLifetime: UInt32 = 7200
    /// The largest record (content and type byte) this server takes, said
    /// to clients that send record_size_limit (RFC 8449): 64 to 2^14 + 1.
    public var recordSizeLimit = TLSRecordLayer.largestRecordSizeLimit
    /// Pad protected records to a multiple of this many bytes (0: no padding).
    public var paddingBlock = 0

    public init(identities: [TLSIdentity],
                cipherSuites: [TLSCipherSuite] = [.chacha20Poly1305SHA256, .aes128GCMSHA256, .aes256GCMSHA384],
                applicationProtocols: [String] = []) {
        precondition(!identities.isEmpty, "a server needs a certificate")
        self.identities = identities
        self.cipherSuites = cipherSuites
        self.applicationProtocols = applicationProtocols
    }

    /// What a client that asked for `serverName` (SNI, RFC 6066) and takes
    /// the signature schemes `algorithms` is shown: the first identity whose
    /// certificate names that host, else the first it can verify at all; and
    /// whether the name chose it (the server then acknowledges server_name).
    /// Nil when it can verify none (handshake_failure).
    func identity(for serverName: String?, algorithms: [UInt16]) -> (identity: TLSIdentity, byName: Bool)? {
        let usable = identities.filter { algorithms.contains($0.privateKey.signatureScheme) }
        if let serverName, let named = usable.first(where: { $0.leaf?.matches(host: serverName) == true }) { return (named, true) }
        return usable.first.map { ($0, false) }
    }
}

/// A certificate chain and the private key of its first certificate.
public struct TLSIdentity {
    /// DER, the server's own certificate first.
    public let certificateChain: [[UInt8]]
    public let privateKey: TLSPrivateKey
    /// The first certificate, parsed for the names it carries (nil if it does
    /// not parse: such an identity is only ever the default).
    let leaf: X509Certificate?

    public init(certificateChain: [[UInt8]], privateKey: TLSPrivateKey) {
        precondition(!certificateChain.isEmpty, "an identity needs its certificate")
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        leaf = X509Certificate(der: certificateChain[0])
    }
}

/// A server's signing key, and the TLS signature scheme it signs with.
public enum TLSPrivateKey {
    /// 32 bytes; ed25519 (0x0807).
    case ed25519([UInt8])
    /// A P-256 scalar, 32 bytes big-endian; ecdsa_secp256r1_sha256 (0x0403).
    case ecdsaP256([UInt8])

    var signatureScheme: UInt16 {
        switch self {
        case .ed25519: return 0x0807
        case .ecdsaP256: return 0x0403
        }
    }

    func sign(_ content: [UInt8]) -> [UInt8] {
        switch self {
        case .ed25519(let key): return Ed25519.signature(for: content, privateKey: key)
        case .ecdsaP256(let key): return ECDSAP256.signature(for: content, privateKey: key)
        }
    }
}

/// What one call into a connection's state machine produced.
public struct TLSOutput {
    /// Records to send to the peer, in order.
    public var toSend: [UInt8] = []
    /// Application data the peer sent.
    public var received: [UInt8] = []
    /// The handshake completed in this call.
    public var handshakeCompleted = false
    /// The peer sent close_notify: it sends nothing more, and what it sent is
    /// all here. This side may still send, then `close()` (TLS 1.3 closes
    /// each direction on its own, RFC 8446 section 6.1).
    public var peerClosed = false
    /// The connection is over: an alert either way, or close_notify before
    /// the handshake completed.
    public var closed = false
    /// The alert that ended the connection, sent or received.
    public var alert: TLSAlert?
    /// A session the server gave a ticket for in this call (a client's only).
    public var session: TLSSession?
}

/// A TLS 1.3 server connection (RFC 8446) as a pure state machine: records
/// in, records and application data out. It does a full (EC)DHE handshake
/// with X25519 or P-256, a HelloRetryRequest when the client guessed neither,
/// signs with Ed25519 or ECDSA, chooses a cipher suite and an ALPN protocol by its own
/// preference, and handles KeyUpdate and close_notify. Every malformed or
/// unexpected message ends the connection with the alert RFC 8446 names for it.
public struct TLSServer {
    enum State { case awaitingClientHello, awaitingSecondClientHello, awaitingFinished, connected, closed }

    let configuration: TLSServerConfiguration
    /// Random bytes: the entropy device's generator on the board.
    let random: (Int) -> [UInt8]
    /// Seconds on a clock that never goes back, for tickets' ages.
    let seconds: () -> UInt64
    var state = State.awaitingClientHello

    var records: TLSRecordLayer
    var transcript: [UInt8] = []
    var suite: TLSCipherSuite?
    var clientApplicationSecret: [UInt8] = []
    var expectedClientFinished: [UInt8] = []
    var sentChangeCipherSpec = false
    /// The group a HelloRetryRequest asked for.
    var retryGroup: UInt16 = 0
    /// The master secret, for the resumption secret once the client's Finished is in.
    var masterSecret: [UInt8] = []
    /// Whether this connection resumed a session from a ticket.
    public private(set) var resumed = false

    /// The host name the client asked for (server_name), if any.
    public private(set) var serverName: String?
    /// The ALPN protocol chosen, if any.
    public private(set) var applicationProtocol: String?
    public var isConnected: Bool { state == .connected }
    public var isClosed: Bool { state == .closed }
    /// The peer has sent close_notify; nothing it sends after is read.
    public internal(set) var peerClosed = false

    static let x25519: UInt16 = 0x001d, secp256r1: UInt16 = 0x0017, tls13: UInt16 = 0x0304
    /// The key-exchange groups, in the server's order of preference.
    static let groups = [x25519, secp256r1]
    /// ServerHello.random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest".
    static let helloRetryRandom = SHA256.hash(Array("HelloRetryRequest".utf8))

    public init(configuration: TLSServerConfiguration, random: @escaping (Int) -> [UInt8], seconds: @escaping () -> UInt64 = { 0 }) {
        self.configuration = configuration
        self.random = random
        self.seconds = seconds
        records = TLSRecordLayer(recordSizeLimit: configuration.recordSizeLimit, paddingBlock: configuration.paddingBlock)
    }

    /// Takes bytes from the peer (any split of its records).
    public mutating func receive(_ bytes: [UInt8]) -> TLSOutput { receiveRecords(bytes) }

    /// Records carrying `data`, at most 2^14 bytes each. Nothing before the
    /// handshake completes or after the connection closes.
    public mutating func send(_ data: [UInt8]) -> [UInt8] { sendRecords(data) }

    /// A close_notify alert; the connection takes nothing more.
    public mutating func close() -> [UInt8] { closeRecords() }

    // MARK: Handshake

    mutating func handleHandshake(type: UInt8, message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        switch (state, type) {
        case (.awaitingClientHello, 1), (.awaitingSecondClientHello, 1):
            try handleClientHello(message, &output)
        case (.awaitingFinished, 20):
            guard constantTimeEqual(Array(message[4...]), expectedClientFinished) else { throw .decryptError }
            transcript += message
            records.readProtection = TLSRecordProtection(suite: suite!, trafficSecret: clientApplicationSecret)
            state = .connected
            output.handshakeCompleted = true
            output.toSend += newSessionTicket()
        case (.connected, 24):
            output.toSend += try records.keyUpdate(message)
        default:
            throw .unexpectedMessage
        }
    }

    /// What a ClientHello offers, as far as this server reads it.
    struct ClientHello {
        var sessionID: [UInt8] = []
        var cipherSuites: [UInt16] = []
        var versions: [UInt16]?
        var groups: [UInt16]?
        var keyShares: [(group: UInt16, key: [UInt8])]?
        var signatureAlgorithms: [UInt16]?
        var serverName: String?
        var protocols: [String]?
        var pskModes: [UInt8]?
        var pskOffer: PSKOffer?
        var recordSizeLimit: Int?
    }

    static func parseClientHello(_ message: [UInt8]) throws(TLSAlert) -> ClientHello {
        var reader = TLSReader(message, from: 4, to: message.count)
        var hello = ClientHello()
        _ = try reader.uint16()                                   // legacy_version
        _ = try reader.bytes(32)                                  // random
        var session = try reader.vector(lengthBytes: 1)
        guard session.remaining <= 32 else { throw .illegalParameter }
        hello.sessionID = session.rest()
        hello.cipherSuites = try reader.uint16List(lengthBytes: 2)
        guard !hello.cipherSuites.isEmpty else { throw .decodeError }
        var compression = try reader.vector(lengthBytes: 1)
        guard compression.rest() == [0] else { throw .illegalParameter }
        var extensions = try reader.vector(lengthBytes: 2)
        guard reader.isAtEnd else { throw .decodeError }
        try extensions.readExtensions { type, data, isLast throws(TLSAlert) in
            switch type {
            case 43:                                              // supported_versions
                hello.versions = try data.uint16List(lengthBytes: 1)
            case 10:                                              // supported_groups
                hello.groups = try data.uint16List(lengthBytes: 2)
            case 51:                                              // key_share
                var list = try data.vector(lengthBytes: 2)
                var shares: [(group: UInt16, key: [UInt8])] = []
                while !list.isAtEnd {
                    let group = try list.uint16()
                    var key = try list.vector(lengthBytes: 2)
                    guard !shares.contains(where: { $0.group == group }) else { throw .illegalParameter }
                    shares.append((group, key.rest()))
                }
                hello.keyShares = shares
            case 13:                                              // signature_algorithms
                hello.signatureAlgorithms = try data.uint16List(lengthBytes: 2)
            case 0:                                               // server_name
                var list = try data.vector(lengthBytes: 2)
                while !list.isAtEnd {
                    let nameType = try list.byte()
                    var name = try list.vector(lengthBytes: 2)
                    if nameType == 0 { hello.serverName = String(decoding: name.rest(), as: UTF8.self) }
                }
            case 16:                                              // application_layer_protocol_negotiation
                var list = try data.vector(lengthBytes: 2)
                var protocols: [String] = []
                while !list.isAtEnd {
                    var name = try list.vector(lengthBytes: 1)
                    guard !name.isAtEnd else { throw .decodeError }
                    protocols.append(String(decoding: name.rest(), as: UTF8.self))
                }
                hello.protocols = protocols
            case 28:                                              // record_size_limit (RFC 8449)
                hello.recordSizeLimit = try TLSRecordLayer.recordSizeLimit(&data)
            case 45:                                              // psk_key_exchange_modes
                var modes = try data.vector(lengthBytes: 1)
                hello.pskModes = modes.rest()
            case 41:                                              // pre_shared_key: must come last
                guard isLast else { throw .illegalParameter }
                hello.pskOffer = try PSKOffer(&data, message: message)
            default:
                _ = data.rest()
            }
        }
        return hello
    }

    mutating func handleClientHello(_ message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        let hello = try Self.parseClientHello(message)
        guard let versions = hello.versions, versions.contains(Self.tls13) else { throw .protocolVersion }
        guard let chosen = configuration.cipherSuites.first(where: { hello.cipherSuites.contains($0.rawValue) }) else { throw .handshakeFailure }
        guard let algorithms = hello.signatureAlgorithms, let groups = hello.groups, let shares = hello.keyShares else { throw .missingExtension }
        guard let (identity, byName) = configuration.identity(for: hello.serverName, algorithms: algorithms),
              let preferredGroup = Self.groups.first(where: { groups.contains($0) }) else { throw .handshakeFailure }
        if !configuration.applicationProtocols.isEmpty, let offered = hello.protocols {
            guard let common = configuration.applicationProtocols.first(where: { offered.contains($0) }) else { throw .noApplicationProtocol }
            applicationProtocol = common
        }
        serverName = hello.serverName

        // The client's share in the group this server prefers among those it sent.
        guard let share = Self.groups.lazy.compactMap({ group in shares.first { $0.group == group } }).first else {
            // The client guessed a group this server does not take: ask again, once, for its best common one.
            guard state == .awaitingClientHello else { throw .illegalParameter }
            suite = chosen
            retryGroup = preferredGroup
            transcript = [254, 0, 0, UInt8(chosen.hashSize)] + chosen.hash(message)
            var extensions: [UInt8] = []
            extensions.appendInteger(43, bytes: 2); extensions.appendVector([0x03, 0x04], lengthBytes: 2)
            var group: [UInt8] = []
            group.appendInteger(preferredGroup, bytes: 2)
            extensions.appendInteger(51, bytes: 2); extensions.appendVector(group, lengthBytes: 2)
            let retry = serverHello(random: Self.helloRetryRandom, sessionID: hello.sessionID, suite: chosen, extensions: extensions)
            transcript += retry
            output.toSend += records.records(retry, type: TLSContentType.handshake)
            sendChangeCipherSpecOnce(sessionID: hello.sessionID, &output)
            state = .awaitingSecondClientHello
            return
        }
        if state == .awaitingSecondClientHello {
            // The second ClientHello must answer the retry: the same suite, a share in the group asked for.
            guard chosen == suite, share.group == retryGroup, shares.count == 1 else { throw .illegalParameter }
        } else {
            suite = chosen
        }
        guard let (shared, serverShare) = keyExchange(group: share.group, peerKey: share.key) else { throw .illegalParameter }
        // Resumption: a ticket this server sealed, for this suite's hash, young
        // enough, whose binder proves the client holds its PSK.
        let psk = try acceptedPSK(hello, suite: chosen, transcriptBefore: transcript)
        resumed = psk != nil

        var extensions: [UInt8] = []
        extensions.appendInteger(43, bytes: 2); extensions.appendVector([0x03, 0x04], lengthBytes: 2)
        var keyShare: [UInt8] = []
        keyShare.appendInteger(share.group, bytes: 2)
        keyShare.appendVector(serverShare, lengthBytes: 2)
        extensions.appendInteger(51, bytes: 2); extensions.appendVector(keyShare, lengthBytes: 2)
        if psk != nil { extensions.appendInteger(41, bytes: 2); extensions.appendVector([0, 0], lengthBytes: 2) }   // the first identity
        let hello2 = serverHello(random: random(32), sessionID: hello.sessionID, suite: chosen, extensions: extensions)
        transcript += message + hello2
        output.toSend += records.records(hello2, type: TLSContentType.handshake)
        sendChangeCipherSpecOnce(sessionID: hello.sessionID, &output)

        var schedule = TLSKeySchedule(suite: chosen, psk: psk, sharedSecret: shared)
        let helloHash = chosen.hash(transcript)
        let clientHandshakeSecret = schedule.trafficSecret("c hs traffic", transcriptHash: helloHash)
        let serverHandshakeSecret = schedule.trafficSecret("s hs traffic", transcriptHash: helloHash)
        records.readProtection = TLSRecordProtection(suite: chosen, trafficSecret: clientHandshakeSecret)
        records.writeProtection = TLSRecordProtection(suite: chosen, trafficSecret: serverHandshakeSecret)
        // From here on, records to the client hold no more than it said it takes (RFC 8449).
        if let limit = hello.recordSizeLimit { records.peerRecordSizeLimit = limit }

        // A resumed session is authenticated by its PSK: no Certificate, no CertificateVerify.
        var flight = encryptedExtensions(acknowledgingServerName: psk == nil && byName, recordSizeLimit: hello.recordSizeLimit != nil)
            + (psk == nil ? certificate(identity) : [])
        transcript += flight
        if psk == nil {
            let verify = certificateVerify(identity, transcriptHash: chosen.hash(transcript))
            transcript += verify
            flight += verify
        }
        let finished = handshakeMessage(20, chosen.finishedData(trafficSecret: serverHandshakeSecret, transcriptHash: chosen.hash(transcript)))
        transcript += finished
        flight += finished
        output.toSend += records.records(flight, type: TLSContentType.handshake)

        let finishedHash = chosen.hash(transcript)
        expectedClientFinished = chosen.finishedData(trafficSecret: clientHandshakeSecret, transcriptHash: finishedHash)
        schedule.advanceToMaster()
        masterSecret = schedule.secret
        clientApplicationSecret = schedule.trafficSecret("c ap traffic", transcriptHash: finishedHash)
        records.writeProtection = TLSRecordProtection(suite: chosen, trafficSecret: schedule.trafficSecret("s ap traffic", transcriptHash: finishedHash))
        state = .awaitingFinished
    }

    /// The shared secret and this server's share for a client's share in
    /// `group`; nil for a share of the wrong size, off the curve, or of small order.
    func keyExchange(group: UInt16, peerKey: [UInt8]) -> (shared: [UInt8], share: [UInt8])? {
        if group == Self.x25519 {
            guard peerKey.count == 32 else { return nil }
            let privateKey = random(32)
            return X25519.sharedSecret(privateKey: privateKey, peerPublicKey: peerKey).map { ($0, X25519.publicKey(privateKey: privateKey)) }
        }
        var privateKey = random(32)
        while !P256.isValidPrivateKey(privateKey) { privateKey = random(32) }
        return P256.sharedSecret(privateKey: privateKey, peerPublicKey: peerKey).map { ($0, P256.publicKey(privateKey: privateKey)) }
    }

    /// A dummy change_cipher_spec after the first ServerHello or
    /// HelloRetryRequest when the client asked for compatibility mode (a
    /// non-empty legacy session ID, RFC 8446 D.4).
    mutating func sendChangeCipherSpecOnce(sessionID: [UInt8], _ output: inout TLSOutput) {
        guard !sessionID.isEmpty, !sentChangeCipherSpec else { return }
        sentChangeCipherSpec = true
        output.toSend += records.records([1], type: TLSContentType.changeCipherSpec)
    }

    func handshakeMessage(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        var message = [type]
        message.appendVector(body, lengthBytes: 3)
        return message
    }

    func serverHello(random: [UInt8], sessionID: [UInt8], suite: TLSCipherSuite, extensions: [UInt8]) -> [UInt8] {
        var body: [UInt8] = [0x03, 0x03] + random
        body.appendVector(sessionID, lengthBytes: 1)
        body.appendInteger(suite.rawValue, bytes: 2)
        body.append(0)
        body.appendVector(extensions, lengthBytes: 2)
        return handshakeMessage(2, body)
    }

    func encryptedExtensions(acknowledgingServerName: Bool, recordSizeLimit: Bool) -> [UInt8] {
        var extensions: [UInt8] = []
        if recordSizeLimit {                                      // what this side takes, to a client that said what it takes
            extensions.appendInteger(28, bytes: 2)
            extensions.appendVector([UInt8(records.recordSizeLimit >> 8), UInt8(records.recordSizeLimit & 0xFF)], lengthBytes: 2)
        }
        if acknowledgingServerName {                               // server_name, empty: the name chose the certificate (RFC 6066 3)
            extensions.appendInteger(0, bytes: 2)
            extensions.appendVector([], lengthBytes: 2)
        }
        if let chosen = applicationProtocol {
            var name: [UInt8] = []
            name.appendVector(Array(chosen.utf8), lengthBytes: 1)
            var list: [UInt8] = []
            list.appendVector(name, lengthBytes: 2)
            extensions.appendInteger(16, bytes: 2)
            extensions.appendVector(list, lengthBytes: 2)
        }
        var body: [UInt8] = []
        body.appendVector(extensions, lengthBytes: 2)
        return handshakeMessage(8, body)
    }

    func certificate(_ identity: TLSIdentity) -> [UInt8] {
        var list: [UInt8] = []
        for certificate in identity.certificateChain {
            list.appendVector(certificate, lengthBytes: 3)
            list.appendVector([], lengthBytes: 2)
        }
        var body: [UInt8] = [0]
        body.appendVector(list, lengthBytes: 3)
        return handshakeMessage(11, body)
    }

    /// The signature over 64 spaces, the context string, a zero and the
    /// transcript's hash (RFC 8446 section 4.4.3).
    func certificateVerify(_ identity: TLSIdentity, transcriptHash: [UInt8]) -> [UInt8] {
        let content = [UInt8](repeating: 0x20, count: 64) + Array("TLS 1.3, server CertificateVerify".utf8) + [0] + transcriptHash
        var body: [UInt8] = []
        let key = identity.privateKey
        body.appendInteger(key.signatureScheme, bytes: 2)
        body.appendVector(key.sign(content), lengthBytes: 2)
        return handshakeMessage(15, body)
    }
}

extension TLSServer: TLSEndpoint {
    var isReceiving: Bool { true }
    /// Middlebox compatibility (RFC 8446 D.4): after the HelloRetryRequest or the server's flight.
    var acceptsChangeCipherSpec: Bool { state == .awaitingSecondClientHello || state == .awaitingFinished }
    /// ClientHello and Finished: the client's keys change after each.
    static var keyChangeMessages: [UInt8] { [1, 20] }
    mutating func endConnection() { state = .closed }
}
