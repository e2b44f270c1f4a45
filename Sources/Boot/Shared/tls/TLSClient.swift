/// What a client connects with.
public struct TLSClientConfiguration {
    /// The certificates it trusts.
    public var trustStore: X509TrustStore
    /// The name it asks for (server_name) and checks the certificate against.
    public var serverName: String
    /// ALPN protocol names to offer, in order of preference; empty: no ALPN.
    public var applicationProtocols: [String]
    public var cipherSuites: [TLSCipherSuite] = [.chacha20Poly1305SHA256, .aes128GCMSHA256, .aes256GCMSHA384]
    /// The largest record (content and type byte) this client takes, said in
    /// record_size_limit (RFC 8449): 64 to 2^14 + 1.
    public var recordSizeLimit = TLSRecordLayer.largestRecordSizeLimit
    /// Pad protected records to a multiple of this many bytes (0: no padding).
    public var paddingBlock = 0
    /// A session to resume (an earlier connection's `session`): offered with
    /// psk_dhe_ke if it was made with `serverName`, is within its lifetime on
    /// the wall clock and shares a hash with an offered suite.
    public var session: TLSSession?

    public init(trustStore: X509TrustStore, serverName: String, applicationProtocols: [String] = []) {
        self.trustStore = trustStore
        self.serverName = serverName
        self.applicationProtocols = applicationProtocols
    }
}

/// A TLS 1.3 client connection (RFC 8446) as a pure state machine, the
/// server's counterpart: `start()` gives the ClientHello (an X25519 share;
/// a HelloRetryRequest may ask for P-256), then records in, records and
/// application data out. The server's chain is validated against the trust
/// store for `serverName` at `time()`, and its CertificateVerify checked
/// (Ed25519, ECDSA P-256 with SHA-256 and P-384 with SHA-384, RSA-PSS with
/// SHA-256/384/512). A
/// certificate that fails ends the connection with the alert RFC 8446 6.2
/// names and leaves the reason in `certificateFailure`. The newest ticket
/// the server sends becomes `session`, which a later connection's
/// configuration may offer: a resumed handshake (psk_dhe_ke, a fresh key
/// exchange) has no certificate to check.
public struct TLSClient {
    enum State { case start, awaitingServerHello, awaitingEncryptedExtensions, awaitingCertificate, awaitingCertificateVerify,
                 awaitingFinished, connected, closed }

    let configuration: TLSClientConfiguration
    let random: (Int) -> [UInt8]
    /// The time for the certificates' dates; nil: no trusted time, and no certificate passes.
    let time: () -> UTCTime?
    var state = State.start
    var records: TLSRecordLayer
    var transcript: [UInt8] = []
    var sessionID: [UInt8] = []
    var suite: TLSCipherSuite?
    /// This side's key share: its group and private key.
    var group: UInt16 = TLSServer.x25519
    var privateKey: [UInt8] = []
    var retried = false
    var schedule: TLSKeySchedule?
    var clientHandshakeSecret: [UInt8] = []
    var serverHandshakeSecret: [UInt8] = []
    var leafKey: X509PublicKey?
    /// The session the ClientHello offers, if any.
    var offeredSession: TLSSession?
    /// The master secret, for the PSKs of the tickets that come.
    var masterSecret: [UInt8] = []

    /// Whether the server took the offered session (no certificate came).
    public private(set) var resumed = false
    /// The newest session the server gave this connection a ticket for.
    public private(set) var session: TLSSession?

    /// Why the server's certificate was refused, if it was.
    public private(set) var certificateFailure: X509Error?
    /// The ALPN protocol the server chose, if any.
    public private(set) var applicationProtocol: String?
    public var isConnected: Bool { state == .connected }
    public var isClosed: Bool { state == .closed }
    public internal(set) var peerClosed = false

    public init(configuration: TLSClientConfiguration, random: @escaping (Int) -> [UInt8], time: @escaping () -> UTCTime?) {
        self.configuration = configuration
        self.random = random
        self.time = time
        records = TLSRecordLayer(recordSizeLimit: configuration.recordSizeLimit, paddingBlock: configuration.paddingBlock)
    }

    /// The ClientHello, to send first.
    public mutating func start() -> [UInt8] {
        guard state == .start else { return [] }
        sessionID = random(32)                     // middlebox compatibility mode (RFC 8446 D.4)
        newPrivateKey(for: TLSServer.x25519)
        if let offered = configuration.session, offered.serverName == configuration.serverName,
           let now = time(), offered.isUsable(at: now.secondsSinceEpoch),
           configuration.cipherSuites.contains(where: { $0.hashSize == offered.suite.hashSize }) {
            offeredSession = offered
        }
        let hello = clientHello(cookie: nil)
        transcript = hello
        state = .awaitingServerHello
        return records.records(hello, type: TLSContentType.handshake)
    }

    public mutating func receive(_ bytes: [UInt8]) -> TLSOutput { receiveRecords(bytes) }

    public mutating func send(_ data: [UInt8]) -> [UInt8] { sendRecords(data) }

    public mutating func close() -> [UInt8] { closeRecords() }

    mutating func handleHandshake(type: UInt8, message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        switch (state, type) {
        case (.awaitingServerHello, 2):
            try handleServerHello(message, &output)
        case (.awaitingEncryptedExtensions, 8):
            try handleEncryptedExtensions(message)
            transcript += message
            state = resumed ? .awaitingFinished : .awaitingCertificate
        case (.awaitingCertificate, 11):
            try handleCertificate(message)
            transcript += message
            state = .awaitingCertificateVerify
        case (.awaitingCertificateVerify, 15):
            try handleCertificateVerify(message)
            transcript += message
            state = .awaitingFinished
        case (.awaitingFinished, 20):
            try handleFinished(message, &output)
        case (.connected, 4):
            try handleNewSessionTicket(message, &output)
        case (.connected, 24):
            output.toSend += try records.keyUpdate(message)
        default:
            throw .unexpectedMessage
        }
    }

    // MARK: Messages this client sends

    func clientHello(cookie: [UInt8]?) -> [UInt8] {
        var extensions: [UInt8] = []
        func add(_ type: Int, _ data: [UInt8]) { extensions.appendInteger(type, bytes: 2); extensions.appendVector(data, lengthBytes: 2) }
        func list16(_ values: [UInt16], lengthBytes: Int) -> [UInt8] {
            var body: [UInt8] = []
            for value in values { body.appendInteger(value, bytes: 2) }
            var vector: [UInt8] = []
            vector.appendVector(body, lengthBytes: lengthBytes)
            return vector
        }
        if X509Certificate.ipv4(configuration.serverName) == nil {     // no IP addresses in SNI (RFC 6066 3)
            var name: [UInt8] = [0]
            name.appendVector(Array(configuration.serverName.utf8), lengthBytes: 2)
            var list: [UInt8] = []
            list.appendVector(name, lengthBytes: 2)
            add(0, list)
        }
        add(43, list16([TLSServer.tls13], lengthBytes: 1))
        add(10, list16(TLSServer.groups, lengthBytes: 2))
        add(13, list16(TLSClient.signatureSchemes, lengthBytes: 2))
        add(28, [UInt8(configuration.recordSizeLimit >> 8), UInt8(configuration.recordSizeLimit & 0xFF)])
        var share: [UInt8] = []
        share.appendInteger(group, bytes: 2)
        share.appendVector(publicShare(), lengthBytes: 2)
        var shares: [UInt8] = []
        shares.appendVector(share, lengthBytes: 2)
        add(51, shares)
        if !configuration.applicationProtocols.isEmpty {
            var names: [UInt8] = []
            for name in configuration.applicationProtocols { names.appendVector(Array(name.utf8), lengthBytes: 1) }
            var list: [UInt8] = []
            list.appendVector(names, lengthBytes: 2)
            add(16, list)
        }
        if let cookie { add(44, cookie) }
        // A session to resume, if a HelloRetryRequest's suite did not rule its hash out: psk_dhe_ke,
        // then pre_shared_key, which comes last, its binder a placeholder until the rest is written.
        var offered = offeredSession
        if let retrySuite = suite, let session = offered, retrySuite.hashSize != session.suite.hashSize { offered = nil }
        if let offered {
            add(45, [1, 1])
            var identity: [UInt8] = []
            identity.appendVector(offered.ticket, lengthBytes: 2)
            identity.appendInteger(offered.obfuscatedAge(at: time()?.secondsSinceEpoch ?? offered.received), bytes: 4)
            var binder: [UInt8] = []
            binder.appendVector([UInt8](repeating: 0, count: offered.suite.hashSize), lengthBytes: 1)
            var psk: [UInt8] = []
            psk.appendVector(identity, lengthBytes: 2)
            psk.appendVector(binder, lengthBytes: 2)
            add(41, psk)
        }
        var body: [UInt8] = [3, 3] + random(32)
        body.appendVector(sessionID, lengthBytes: 1)
        body += list16(configuration.cipherSuites.map { $0.rawValue }, lengthBytes: 2)
        body += [1, 0]
        body.appendVector(extensions, lengthBytes: 2)
        var message: [UInt8] = [1]
        message.appendVector(body, lengthBytes: 3)
        if let offered {
            // The binder covers the transcript so far and this hello up to its binders (their 2 + 1 length bytes and itself).
            let binderStart = message.count - offered.suite.hashSize
            let binder = TLSKeySchedule.binder(suite: offered.suite, psk: offered.psk, transcript: transcript + Array(message[..<(binderStart - 3)]))
            message.replaceSubrange(binderStart..., with: binder)
        }
        return message
    }

    /// The signature schemes this client verifies in CertificateVerify.
    static let signatureSchemes: [UInt16] = [0x0807, 0x0403, 0x0503, 0x0804, 0x0805, 0x0806]

    func publicShare() -> [UInt8] {
        group == TLSServer.x25519 ? X25519.publicKey(privateKey: privateKey) : P256.publicKey(privateKey: privateKey)
    }

    mutating func newPrivateKey(for group: UInt16) {
        self.group = group
        privateKey = random(32)
        while group == TLSServer.secp256r1 && !P256.isValidPrivateKey(privateKey) { privateKey = random(32) }
    }

    // MARK: Messages from the server

    mutating func handleServerHello(_ message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        var reader = TLSReader(message, from: 4, to: message.count)
        guard try reader.uint16() == 0x0303 else { throw .protocolVersion }
        let serverRandom = try reader.bytes(32)
        var echoed = try reader.vector(lengthBytes: 1)
        guard echoed.rest() == sessionID else { throw .illegalParameter }
        guard let chosen = TLSCipherSuite(rawValue: try reader.uint16()), configuration.cipherSuites.contains(chosen) else { throw .illegalParameter }
        guard try reader.byte() == 0 else { throw .illegalParameter }
        var extensions = try reader.vector(lengthBytes: 2)
        guard reader.isAtEnd else { throw .decodeError }
        let isRetry = serverRandom == TLSServer.helloRetryRandom
        var version: UInt16?, shareGroup: UInt16?, shareKey: [UInt8]?, cookie: [UInt8]?, selectedIdentity: UInt16?
        try extensions.readExtensions { type, data, _ throws(TLSAlert) in
            switch type {
            case 43: version = try data.uint16()
            case 51:
                shareGroup = try data.uint16()
                if !isRetry { var key = try data.vector(lengthBytes: 2); shareKey = key.rest() }
            case 44 where isRetry:
                var value = try data.vector(lengthBytes: 2)
                cookie = value.rest()
                guard !(cookie ?? []).isEmpty else { throw .decodeError }
            case 41 where !isRetry && offeredSession != nil:
                selectedIdentity = try data.uint16()
            default:
                throw .unsupportedExtension                      // nothing else was offered (RFC 8446 4.1.4)
            }
        }
        guard version == TLSServer.tls13 else { throw .protocolVersion }
        if isRetry {
            // Once only, for a group this client offered and did not already send a share for.
            guard !retried, let wanted = shareGroup, TLSServer.groups.contains(wanted), wanted != group || cookie != nil else { throw .illegalParameter }
            retried = true
            suite = chosen
            transcript = [254, 0, 0, UInt8(chosen.hashSize)] + chosen.hash(transcript) + message
            if wanted != group { newPrivateKey(for: wanted) }
            let hello = clientHello(cookie: cookie.map { var vector: [UInt8] = []; vector.appendVector($0, lengthBytes: 2); return vector })
            transcript += hello
            output.toSend += records.records([1], type: TLSContentType.changeCipherSpec) + records.records(hello, type: TLSContentType.handshake)
            return
        }
        guard shareGroup == group, let shareKey else { throw .illegalParameter }
        if let earlier = suite, earlier != chosen { throw .illegalParameter }  // the suite of the retry
        suite = chosen
        let shared: [UInt8]?
        if group == TLSServer.x25519 {
            shared = shareKey.count == 32 ? X25519.sharedSecret(privateKey: privateKey, peerPublicKey: shareKey) : nil
        } else {
            shared = P256.sharedSecret(privateKey: privateKey, peerPublicKey: shareKey)
        }
        guard let shared else { throw .illegalParameter }
        // The server took the session: the one identity offered, and a suite of its hash.
        var psk: [UInt8]?
        if let selectedIdentity, let offered = offeredSession {
            guard selectedIdentity == 0, offered.suite.hashSize == chosen.hashSize else { throw .illegalParameter }
            psk = offered.psk
            resumed = true
        }
        transcript += message
        let keySchedule = TLSKeySchedule(suite: chosen, psk: psk, sharedSecret: shared)
        let helloHash = chosen.hash(transcript)
        clientHandshakeSecret = keySchedule.trafficSecret("c hs traffic", transcriptHash: helloHash)
        serverHandshakeSecret = keySchedule.trafficSecret("s hs traffic", transcriptHash: helloHash)
        records.readProtection = TLSRecordProtection(suite: chosen, trafficSecret: serverHandshakeSecret)
        schedule = keySchedule
        state = .awaitingEncryptedExtensions
    }

    mutating func handleEncryptedExtensions(_ message: [UInt8]) throws(TLSAlert) {
        var reader = TLSReader(message, from: 4, to: message.count)
        var extensions = try reader.vector(lengthBytes: 2)
        guard reader.isAtEnd else { throw .decodeError }
        try extensions.readExtensions { type, data, _ throws(TLSAlert) in
            switch type {
            case 16:
                var list = try data.vector(lengthBytes: 2)
                var name = try list.vector(lengthBytes: 1)
                let chosen = String(decoding: name.rest(), as: UTF8.self)
                guard list.isAtEnd, configuration.applicationProtocols.contains(chosen) else { throw .illegalParameter }
                applicationProtocol = chosen
            case 28:                                                 // record_size_limit: what the server takes (RFC 8449)
                records.peerRecordSizeLimit = try TLSRecordLayer.recordSizeLimit(&data)
            case 0, 10:                                              // server_name's empty ack, supported_groups
                _ = data.rest()
            default:
                throw .unsupportedExtension
            }
        }
    }

    mutating func handleCertificate(_ message: [UInt8]) throws(TLSAlert) {
        var reader = TLSReader(message, from: 4, to: message.count)
        var context = try reader.vector(lengthBytes: 1)
        guard context.rest().isEmpty else { throw .illegalParameter }
        var list = try reader.vector(lengthBytes: 3)
        guard reader.isAtEnd else { throw .decodeError }
        var chain: [[UInt8]] = []
        while !list.isAtEnd {
            var data = try list.vector(lengthBytes: 3)
            _ = try list.vector(lengthBytes: 2)                      // per-certificate extensions (OCSP, SCT): not read
            chain.append(data.rest())
        }
        guard !chain.isEmpty else { throw .decodeError }
        switch configuration.trustStore.validate(chain: chain, host: configuration.serverName, at: time()) {
        case .success(let leaf):
            leafKey = leaf.publicKey
        case .failure(let failure):
            certificateFailure = failure
            throw TLSClient.alert(for: failure)
        }
    }

    /// The alert RFC 8446 6.2 names for a certificate's failure.
    static func alert(for failure: X509Error) -> TLSAlert {
        switch failure {
        case .malformed, .badSignature: return .badCertificate
        case .expired, .notYetValid: return .certificateExpired
        case .unknownIssuer: return .unknownCA
        case .unsupportedAlgorithm, .unknownCriticalExtension: return .unsupportedCertificate
        case .noTrustedTime, .notACertificateAuthority, .pathTooLong, .nameMismatch, .wrongKeyUsage: return .certificateUnknown
        }
    }

    mutating func handleCertificateVerify(_ message: [UInt8]) throws(TLSAlert) {
        var reader = TLSReader(message, from: 4, to: message.count)
        let scheme = try reader.uint16()
        var signatureVector = try reader.vector(lengthBytes: 2)
        let signature = signatureVector.rest()
        guard reader.isAtEnd, let suite, let leafKey else { throw .decodeError }
        let content = [UInt8](repeating: 0x20, count: 64) + Array("TLS 1.3, server CertificateVerify".utf8) + [0] + suite.hash(transcript)
        let valid: Bool
        switch (scheme, leafKey) {
        case (0x0807, .ed25519(let key)):
            valid = Ed25519.isValidSignature(signature, for: content, publicKey: key)
        case (0x0403, .ecdsaP256(let key)):
            valid = ECDSAP256.isValidSignature(signature, for: content, publicKey: key)
        case (0x0503, .ecdsaP384(let key)):
            valid = ECDSAP384.isValidSignature(signature, digest: SHA384.hash(content), publicKey: key)
        case (0x0804, .rsa(let key)):
            valid = RSA.isValidPSSSignature(signature, for: content, hash: .sha256, saltLength: 32, publicKey: key)
        case (0x0805, .rsa(let key)):
            valid = RSA.isValidPSSSignature(signature, for: content, hash: .sha384, saltLength: 48, publicKey: key)
        case (0x0806, .rsa(let key)):
            valid = RSA.isValidPSSSignature(signature, for: content, hash: .sha512, saltLength: 64, publicKey: key)
        default:
            throw .illegalParameter                                 // a scheme not offered, or not the certificate's key
        }
        guard valid else { throw .decryptError }
    }

    mutating func handleFinished(_ message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        guard let suite, var schedule else { throw .internalError }
        let expected = suite.finishedData(trafficSecret: serverHandshakeSecret, transcriptHash: suite.hash(transcript))
        guard constantTimeEqual(Array(message[4...]), expected) else { throw .decryptError }
        transcript += message
        let serverFinishedHash = suite.hash(transcript)
        schedule.advanceToMaster()
        let clientApplicationSecret = schedule.trafficSecret("c ap traffic", transcriptHash: serverFinishedHash)
        let serverApplicationSecret = schedule.trafficSecret("s ap traffic", transcriptHash: serverFinishedHash)
        // The change_cipher_spec of compatibility mode, then Finished under the client's handshake keys.
        if !retried { output.toSend += records.records([1], type: TLSContentType.changeCipherSpec) }
        records.writeProtection = TLSRecordProtection(suite: suite, trafficSecret: clientHandshakeSecret)
        var finished: [UInt8] = [20]
        finished.appendVector(suite.finishedData(trafficSecret: clientHandshakeSecret, transcriptHash: serverFinishedHash), lengthBytes: 3)
        output.toSend += records.records(finished, type: TLSContentType.handshake)
        transcript += finished                                      // for the tickets' PSKs
        masterSecret = schedule.secret
        records.writeProtection = TLSRecordProtection(suite: suite, trafficSecret: clientApplicationSecret)
        records.readProtection = TLSRecordProtection(suite: suite, trafficSecret: serverApplicationSecret)
        state = .connected
        output.handshakeCompleted = true
    }
}

extension TLSClient {
    /// A NewSessionTicket (RFC 8446 section 4.6.1): kept as `session` (and
    /// in the output) if its lifetime is not zero and the wall clock can age
    /// it; a lifetime over 7 days is an illegal_parameter.
    mutating func handleNewSessionTicket(_ message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        var reader = TLSReader(message, from: 4, to: message.count)
        let lifetime = try reader.unsigned(UInt32.self)
        let ageAdd = try reader.unsigned(UInt32.self)
        var nonce = try reader.vector(lengthBytes: 1)
        var ticket = try reader.vector(lengthBytes: 2)
        var extensions = try reader.vector(lengthBytes: 2)
        guard reader.isAtEnd, !ticket.isAtEnd else { throw .decodeError }
        try extensions.readExtensions { _, data, _ throws(TLSAlert) in _ = data.rest() }   // early_data's: no 0-RTT here
        guard lifetime <= 604_800 else { throw .illegalParameter }
        guard lifetime > 0, let suite, let now = time() else { return }
        let ticketNonce = nonce.rest()
        let session = TLSSession(suite: suite, ticket: ticket.rest(),
                                 psk: TLSKeySchedule.resumptionPSK(suite: suite, masterSecret: masterSecret, transcript: transcript, nonce: ticketNonce),
                                 ageAdd: ageAdd, lifetime: lifetime, received: now.secondsSinceEpoch, serverName: configuration.serverName)
        self.session = session
        output.session = session
    }
}

extension TLSClient: TLSEndpoint {
    /// Nothing is taken before the ClientHello has gone.
    var isReceiving: Bool { state != .start }
    /// Middlebox compatibility (RFC 8446 D.4): the server's, any time before the handshake ends.
    var acceptsChangeCipherSpec: Bool { state != .connected }
    /// ServerHello and Finished: the server's keys change after each.
    static var keyChangeMessages: [UInt8] { [2, 20] }
    mutating func endConnection() { state = .closed }
}
