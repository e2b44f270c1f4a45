/// TLS 1.3's cipher suites (RFC 8446 appendix B.4): an AEAD and the hash of
/// the key schedule and transcript.
public enum TLSCipherSuite: UInt16 {
    case aes128GCMSHA256 = 0x1301
    case aes256GCMSHA384 = 0x1302
    case chacha20Poly1305SHA256 = 0x1303

    var hashSize: Int { self == .aes256GCMSHA384 ? 48 : 32 }
    var keySize: Int { self == .aes128GCMSHA256 ? 16 : 32 }

    func hash(_ bytes: [UInt8]) -> [UInt8] {
        self == .aes256GCMSHA384 ? SHA384.hash(bytes) : SHA256.hash(bytes)
    }

    func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        self == .aes256GCMSHA384 ? HMAC<SHA384>.authenticationCode(for: message, key: key)
            : HMAC<SHA256>.authenticationCode(for: message, key: key)
    }

    func extract(salt: [UInt8], inputKey: [UInt8]) -> [UInt8] {
        self == .aes256GCMSHA384 ? HKDF<SHA384>.extract(salt: salt, inputKey: inputKey)
            : HKDF<SHA256>.extract(salt: salt, inputKey: inputKey)
    }

    func expandLabel(_ secret: [UInt8], _ label: String, context: [UInt8] = [], length: Int) -> [UInt8] {
        self == .aes256GCMSHA384 ? HKDF<SHA384>.expandLabel(secret: secret, label: label, context: context, length: length)
            : HKDF<SHA256>.expandLabel(secret: secret, label: label, context: context, length: length)
    }

    /// Derive-Secret(secret, label, messages), given the messages' hash.
    func deriveSecret(_ secret: [UInt8], _ label: String, transcriptHash: [UInt8]) -> [UInt8] {
        expandLabel(secret, label, context: transcriptHash, length: hashSize)
    }

    /// The Finished message's verify_data over a transcript hash (RFC 8446 4.4.4).
    func finishedData(trafficSecret: [UInt8], transcriptHash: [UInt8]) -> [UInt8] {
        hmac(key: expandLabel(trafficSecret, "finished", length: hashSize), transcriptHash)
    }
}

/// The key schedule of RFC 8446 section 7.1, without PSKs: from the shared
/// (EC)DHE secret to the handshake and then the application traffic secrets.
struct TLSKeySchedule {
    let suite: TLSCipherSuite
    private(set) var secret: [UInt8]

    /// The handshake secret: the early secret (of a resumption PSK, or of
    /// none) carried on and mixed with the (EC)DHE secret.
    init(suite: TLSCipherSuite, psk: [UInt8]?, sharedSecret: [UInt8]) {
        self.suite = suite
        let early = TLSKeySchedule.earlySecret(suite: suite, psk: psk)
        secret = suite.extract(salt: suite.deriveSecret(early, "derived", transcriptHash: suite.hash([])), inputKey: sharedSecret)
    }

    /// HKDF-Extract(0, PSK), with a hash's length of zeros for no PSK.
    static func earlySecret(suite: TLSCipherSuite, psk: [UInt8]?) -> [UInt8] {
        suite.extract(salt: [], inputKey: psk ?? [UInt8](repeating: 0, count: suite.hashSize))
    }

    func trafficSecret(_ label: String, transcriptHash: [UInt8]) -> [UInt8] {
        suite.deriveSecret(secret, label, transcriptHash: transcriptHash)
    }

    /// On from the handshake secret to the master secret.
    mutating func advanceToMaster() {
        let zeros = [UInt8](repeating: 0, count: suite.hashSize)
        secret = suite.extract(salt: suite.deriveSecret(secret, "derived", transcriptHash: suite.hash([])), inputKey: zeros)
    }

    /// The PSK a NewSessionTicket stands for (RFC 8446 section 4.6.1): from
    /// the master secret, the transcript through the client's Finished and
    /// the ticket's nonce. Both ends derive it; only the client keeps it.
    static func resumptionPSK(suite: TLSCipherSuite, masterSecret: [UInt8], transcript: [UInt8], nonce: [UInt8]) -> [UInt8] {
        let resumptionSecret = suite.deriveSecret(masterSecret, "res master", transcriptHash: suite.hash(transcript))
        return suite.expandLabel(resumptionSecret, "resumption", context: nonce, length: suite.hashSize)
    }

    /// A PSK binder (section 4.2.11.2): a Finished MAC, under the binder key
    /// of `psk`, of the transcript up to the ClientHello's binders. The
    /// client sends it; the server checks it.
    static func binder(suite: TLSCipherSuite, psk: [UInt8], transcript: [UInt8]) -> [UInt8] {
        let binderKey = suite.deriveSecret(earlySecret(suite: suite, psk: psk), "res binder", transcriptHash: suite.hash([]))
        return suite.finishedData(trafficSecret: binderKey, transcriptHash: suite.hash(transcript))
    }
}

/// One direction's record protection (RFC 8446 section 5.2-5.3): the AEAD
/// keyed from a traffic secret, and the sequence number each record's nonce
/// is made from.
struct TLSRecordProtection {
    let suite: TLSCipherSuite
    private(set) var trafficSecret: [UInt8]
    private var key: [UInt8]
    private var iv: [UInt8]
    private var aes: AESGCM?
    private var sequence: UInt64 = 0

    init(suite: TLSCipherSuite, trafficSecret: [UInt8]) {
        self.suite = suite
        self.trafficSecret = trafficSecret
        key = suite.expandLabel(trafficSecret, "key", length: suite.keySize)
        iv = suite.expandLabel(trafficSecret, "iv", length: 12)
        aes = suite == .chacha20Poly1305SHA256 ? nil : AESGCM(key: key)
    }

    /// The next generation of keys (KeyUpdate, RFC 8446 section 7.2).
    func updated() -> TLSRecordProtection {
        TLSRecordProtection(suite: suite, trafficSecret: suite.expandLabel(trafficSecret, "traffic upd", length: suite.hashSize))
    }

    /// The IV XORed with the sequence number, big-endian, at its end.
    private func nonce() -> [UInt8] {
        var nonce = iv
        for index in 0..<8 { nonce[11 - index] ^= UInt8(truncatingIfNeeded: sequence >> UInt64(8 * index)) }
        return nonce
    }

    /// A whole protected record (header and body) carrying `content` of
    /// `type`, with `padding` zeros after the type byte.
    mutating func seal(_ content: [UInt8], type: UInt8, padding: Int = 0) -> [UInt8] {
        var inner = content
        inner.append(type)
        inner += [UInt8](repeating: 0, count: padding)
        var header: [UInt8] = [TLSContentType.applicationData, 0x03, 0x03]
        header.appendInteger(inner.count + 16, bytes: 2)
        let sealed = aes.map { $0.seal(inner, nonce: nonce(), additionalData: header) }
            ?? ChaCha20Poly1305.seal(inner, key: key, nonce: nonce(), additionalData: header)
        sequence += 1
        return header + sealed
    }

    /// The content type and content of a protected record's body; bad_record_mac
    /// if it does not open, record_overflow if its inner plaintext (content,
    /// type, padding) is over `limit` bytes, unexpected_message if it is all padding.
    mutating func open(_ body: [UInt8], header: [UInt8], limit: Int) throws(TLSAlert) -> (type: UInt8, content: [UInt8]) {
        let opened = aes.map { $0.open(body, nonce: nonce(), additionalData: header) }
            ?? ChaCha20Poly1305.open(body, key: key, nonce: nonce(), additionalData: header)
        guard var inner = opened else { throw .badRecordMAC }
        sequence += 1
        guard inner.count <= limit else { throw .recordOverflow }
        while let last = inner.last, last == 0 { inner.removeLast() }
        guard let type = inner.popLast() else { throw .unexpectedMessage }
        return (type, inner)
    }
}

enum TLSContentType {
    static let changeCipherSpec: UInt8 = 20, alert: UInt8 = 21, handshake: UInt8 = 22, applicationData: UInt8 = 23
    /// The largest plaintext a record carries (2^14), and ciphertext (2^14 + 256).
    static let maximumPlaintext = 16384, maximumCiphertext = 16384 + 256
}
