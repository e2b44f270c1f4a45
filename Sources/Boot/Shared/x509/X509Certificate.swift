/// An X.509 v3 certificate (RFC 5280 section 4.1), parsed strictly from
/// DER: what chain validation and a TLS client read of it. Names are kept as
/// their DER and compared byte for byte, as certificates issued by one CA
/// spell their issuer the way the CA spells its subject.
public struct X509Certificate: Equatable {
    /// The whole certificate, as it came.
    public let der: [UInt8]
    /// The signed part, its signature algorithm and the signature.
    let toBeSigned: [UInt8]
    let signatureAlgorithm: X509SignatureAlgorithm
    let signature: [UInt8]

    public let issuer: [UInt8]
    public let subject: [UInt8]
    public let notBefore: UTCTime
    public let notAfter: UTCTime
    public let publicKey: X509PublicKey

    /// basicConstraints: whether it may issue certificates, and how many
    /// intermediates may follow it (nil: no limit).
    public private(set) var isCertificateAuthority = false
    public private(set) var pathLengthLimit: Int?
    /// keyUsage's bits (bit 0, digitalSignature, is 0x80 of the first byte), if present.
    var keyUsage: [UInt8]?
    /// extKeyUsage's purposes (OIDs' DER contents), if present.
    var extendedKeyUsages: [[UInt8]]?
    /// subjectAltName's DNS names (lowercased) and IP addresses.
    public private(set) var dnsNames: [String] = []
    public private(set) var ipAddresses: [[UInt8]] = []
    /// The first critical extension this reader does not understand, if any:
    /// validation refuses the certificate (RFC 5280 4.2).
    var unknownCriticalExtension: [UInt8]?

    /// The same certificate: the same bytes.
    public static func == (a: X509Certificate, b: X509Certificate) -> Bool { a.der == b.der }

    /// Parses `der`; nil for anything that is not a well-formed v3 (or v1)
    /// certificate with a key and a signature algorithm this library knows.
    public init?(der: [UInt8]) {
        self.der = der
        var outer = DERReader(der)
        guard var certificate = outer.element(tag: 0x30), outer.isAtEnd,
              let (tbsEncoding, tbsReader) = certificate.whole(tag: 0x30),
              var algorithm = certificate.element(tag: 0x30),
              let signature = certificate.bitStringBytes(), certificate.isAtEnd,
              let signatureAlgorithm = X509SignatureAlgorithm(&algorithm) else { return nil }
        toBeSigned = tbsEncoding
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature

        var tbs = tbsReader
        var version = 0
        if tbs.nextTag == 0xA0 {
            guard var explicit = tbs.element(tag: 0xA0), let value = explicit.unsignedInteger(), explicit.isAtEnd,
                  value.count == 1, value[0] <= 2 else { return nil }
            version = Int(value[0])
        }
        guard tbs.element(tag: 0x02) != nil,                                  // serialNumber
              var innerAlgorithm = tbs.element(tag: 0x30),
              X509SignatureAlgorithm(&innerAlgorithm) == signatureAlgorithm,    // must match the outer one (4.1.1.2)
              let issuer = tbs.whole(tag: 0x30)?.encoding,
              var validity = tbs.element(tag: 0x30),
              let notBefore = X509Certificate.time(&validity), let notAfter = X509Certificate.time(&validity), validity.isAtEnd,
              let subject = tbs.whole(tag: 0x30)?.encoding,
              var keyInfo = tbs.element(tag: 0x30),
              let publicKey = X509PublicKey(&keyInfo), keyInfo.isAtEnd else { return nil }
        self.issuer = issuer
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.publicKey = publicKey
        // issuerUniqueID [1] and subjectUniqueID [2] are skipped; extensions [3] only in v3.
        if tbs.nextTag == 0x81 { _ = tbs.element(tag: 0x81) }
        if tbs.nextTag == 0x82 { _ = tbs.element(tag: 0x82) }
        if tbs.nextTag == 0xA3 {
            guard version == 2, var explicit = tbs.element(tag: 0xA3), var extensions = explicit.element(tag: 0x30),
                  explicit.isAtEnd, !extensions.isAtEnd, readExtensions(&extensions) else { return nil }
        }
        guard tbs.isAtEnd else { return nil }
    }

    /// Reads each extension; false when one is malformed or repeated.
    mutating func readExtensions(_ extensions: inout DERReader) -> Bool {
        var seen: [[UInt8]] = []
        while !extensions.isAtEnd {
            guard var item = extensions.element(tag: 0x30), let oid = item.element(tag: 0x06)?.contents else { return false }
            guard !seen.contains(oid) else { return false }
            seen.append(oid)
            var critical = false
            if item.nextTag == 0x01 {
                guard let flag = item.boolean(), flag else { return false }      // DER: FALSE is left out
                critical = flag
            }
            guard let value = item.element(tag: 0x04)?.contents, item.isAtEnd else { return false }
            var reader = DERReader(value)
            switch oid {
            case X509OID.basicConstraints:
                guard var constraints = reader.element(tag: 0x30), reader.isAtEnd else { return false }
                if constraints.nextTag == 0x01 {
                    guard let flag = constraints.boolean(), flag else { return false }
                    isCertificateAuthority = flag
                }
                if constraints.nextTag == 0x02 {
                    guard let limit = constraints.unsignedInteger(), limit.count <= 2 else { return false }
                    pathLengthLimit = limit.reduce(0) { $0 << 8 | Int($1) }
                }
                guard constraints.isAtEnd else { return false }
            case X509OID.keyUsage:
                guard let bits = reader.element(tag: 0x03)?.contents, reader.isAtEnd, bits.count >= 2, bits[0] < 8 else { return false }
                keyUsage = Array(bits.dropFirst())
            case X509OID.extendedKeyUsage:
                guard var list = reader.element(tag: 0x30), reader.isAtEnd, !list.isAtEnd else { return false }
                var purposes: [[UInt8]] = []
                while !list.isAtEnd {
                    guard let purpose = list.element(tag: 0x06)?.contents else { return false }
                    purposes.append(purpose)
                }
                extendedKeyUsages = purposes
            case X509OID.subjectAltName:
                guard var names = reader.element(tag: 0x30), reader.isAtEnd, !names.isAtEnd else { return false }
                while let tag = names.nextTag {
                    switch tag {
                    case 0x82:                                                   // dNSName, IA5String
                        guard let name = names.element(tag: 0x82)?.contents, name.allSatisfy({ $0 < 0x80 }) else { return false }
                        dnsNames.append(X509Certificate.asciiLowercased(name))
                    case 0x87:                                                   // iPAddress
                        guard let address = names.element(tag: 0x87)?.contents else { return false }
                        ipAddresses.append(address)
                    default:                                                     // other name forms: skipped
                        guard names.whole(tag: tag) != nil else { return false }
                    }
                }
            default:
                // Policies and key identifiers are read by nothing here; the
                // policies are not checked (as most TLS clients do not), so a
                // critical policies extension is taken as understood.
                if critical && oid != X509OID.certificatePolicies && unknownCriticalExtension == nil { unknownCriticalExtension = oid }
            }
        }
        return true
    }

    /// UTCTime (years 1950-2049, RFC 5280 4.1.2.5.1) or GeneralizedTime, both in UTC with seconds and `Z`.
    static func time(_ reader: inout DERReader) -> UTCTime? {
        func number(_ bytes: ArraySlice<UInt8>) -> Int? { UTCTime.decimal(bytes).map { Int($0) } }
        let text: [UInt8], year: Int
        if reader.nextTag == 0x17 {
            guard let value = reader.element(tag: 0x17)?.contents, value.count == 13, let twoDigits = number(value[0..<2]) else { return nil }
            text = Array(value.dropFirst(2))
            year = twoDigits < 50 ? 2000 + twoDigits : 1900 + twoDigits
        } else {
            guard let value = reader.element(tag: 0x18)?.contents, value.count == 15, let fourDigits = number(value[0..<4]) else { return nil }
            text = Array(value.dropFirst(4))
            year = fourDigits
        }
        guard text.last == 0x5A, let month = number(text[0..<2]), let day = number(text[2..<4]),
              let hour = number(text[4..<6]), let minute = number(text[6..<8]), let second = number(text[8..<10]) else { return nil }
        return UTCTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Whether `issuer`'s key signed this certificate.
    func isSigned(by key: X509PublicKey) -> Bool {
        signatureAlgorithm.isValid(signature, over: toBeSigned, key: key)
    }

    /// Whether this library can check a signature of this certificate's
    /// algorithm by `key` at all (so that a failure is a bad signature, not an unsupported one).
    func canBeChecked(by key: X509PublicKey) -> Bool {
        switch (signatureAlgorithm, key) {
        case (.rsaPKCS1, .rsa), (.rsaPSS, .rsa), (.ecdsa, .ecdsaP256), (.ecdsa, .ecdsaP384), (.ed25519, .ed25519): return true
        default: return false
        }
    }

    /// The subject's common name, for messages ("" if it has none).
    public var commonName: String {
        X509Certificate.commonName(of: subject)
    }

    /// The first CN in a Name's DER, or "".
    static func commonName(of name: [UInt8]) -> String {
        var outer = DERReader(name)
        guard var sequence = outer.element(tag: 0x30) else { return "" }
        while var set = sequence.element(tag: 0x31) {
            while var attribute = set.element(tag: 0x30) {
                guard let type = attribute.element(tag: 0x06)?.contents, let tag = attribute.nextTag,
                      let value = attribute.element(tag: tag)?.contents else { break }
                if type == [0x55, 0x04, 0x03] { return String(decoding: value, as: UTF8.self) }
            }
        }
        return ""
    }

    /// Whether the certificate names `host` in its subjectAltName: a DNS name
    /// compared without case, where a leftmost `*` stands for exactly one
    /// label (RFC 6125 6.4.3), or an IPv4 address. The subject's CN is not
    /// consulted (browsers have not since 2017).
    public func matches(host: String) -> Bool {
        if let address = X509Certificate.ipv4(host) { return ipAddresses.contains(address) }
        let wanted = X509Certificate.asciiLowercased(Array(host.utf8))
        let wantedLabels = wanted.split(separator: ".", omittingEmptySubsequences: false)
        for name in dnsNames {
            if name == wanted { return true }
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            // "*.example.com": a wildcard only as the whole leftmost label, over at least two more labels.
            guard labels.count >= 3, labels[0] == "*", labels.count == wantedLabels.count, !wantedLabels[0].isEmpty else { continue }
            if labels.dropFirst().elementsEqual(wantedLabels.dropFirst()) { return true }
        }
        return false
    }

    /// DNS names compare without ASCII case (RFC 4343).
    static func asciiLowercased(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.utf8.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = Int(part), value <= 255 else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }
}

/// A certificate's subject key.
public enum X509PublicKey: Equatable {
    case rsa(RSAPublicKey)
    /// An uncompressed P-256 point, 65 bytes.
    case ecdsaP256([UInt8])
    /// An uncompressed P-384 point, 97 bytes.
    case ecdsaP384([UInt8])
    /// 32 bytes.
    case ed25519([UInt8])
    /// A key this library cannot use (P-521, RSA under 2048 bits, ...): its
    /// algorithm's OID. A trust anchor may hold one; nothing it signed verifies.
    case unsupported([UInt8])

    /// From SubjectPublicKeyInfo's contents.
    init?(_ info: inout DERReader) {
        guard var algorithm = info.element(tag: 0x30), let oid = algorithm.element(tag: 0x06)?.contents,
              let key = info.bitStringBytes() else { return nil }
        switch oid {
        case X509OID.rsaEncryption:
            guard algorithm.element(tag: 0x05)?.isAtEnd == true, algorithm.isAtEnd else { return nil }
            var outer = DERReader(key)
            guard var sequence = outer.element(tag: 0x30), outer.isAtEnd, let n = sequence.unsignedInteger(),
                  let e = sequence.unsignedInteger(), sequence.isAtEnd else { return nil }
            self = RSAPublicKey(modulus: n, exponent: e).map(X509PublicKey.rsa) ?? .unsupported(oid)
        case X509OID.ecPublicKey:
            guard let curve = algorithm.element(tag: 0x06)?.contents, algorithm.isAtEnd else { return nil }
            switch curve {
            case X509OID.prime256v1:
                guard key.count == 65, key[0] == 4 else { return nil }
                self = .ecdsaP256(key)
            case X509OID.secp384r1:
                guard key.count == 97, key[0] == 4 else { return nil }
                self = .ecdsaP384(key)
            default:
                self = .unsupported(oid + curve)
            }
        case X509OID.ed25519:
            guard algorithm.isAtEnd, key.count == 32 else { return nil }
            self = .ed25519(key)
        default:
            self = .unsupported(oid)
        }
    }
}

/// How a certificate is signed.
enum X509SignatureAlgorithm: Equatable {
    case rsaPKCS1(RSAHash)
    case rsaPSS(RSAHash, saltLength: Int)
    /// With SHA-256 or SHA-384, by a P-256 or a P-384 key.
    case ecdsa(sha384: Bool)
    case ed25519
    /// One not supported here (SHA-1 and MD5 among them), by its OID: a
    /// trust anchor's self-signature may use one, since it is never checked.
    case unsupported([UInt8])

    /// From an AlgorithmIdentifier's contents.
    init?(_ algorithm: inout DERReader) {
        guard let oid = algorithm.element(tag: 0x06)?.contents else { return nil }
        func rsaHash(_ last: UInt8) -> RSAHash? {
            switch last {
            case 0x0b: return .sha256
            case 0x0c: return .sha384
            case 0x0d: return .sha512
            default: return nil
            }
        }
        if oid.count == 9, Array(oid.prefix(8)) == Array(X509OID.rsaEncryption.prefix(8)), let hash = rsaHash(oid[8]) {
            // The parameters are NULL (RFC 4055 5); absent is tolerated, as OpenSSL does.
            if algorithm.nextTag == 0x05 { guard algorithm.element(tag: 0x05)?.isAtEnd == true else { return nil } }
            guard algorithm.isAtEnd else { return nil }
            self = .rsaPKCS1(hash)
        } else if oid == X509OID.rsassaPSS {
            guard var parameters = algorithm.element(tag: 0x30), algorithm.isAtEnd,
                  let (hash, salt) = X509SignatureAlgorithm.pssParameters(&parameters) else { return nil }
            self = .rsaPSS(hash, saltLength: salt)
        } else if oid == X509OID.ecdsaSHA256 || oid == X509OID.ecdsaSHA384 {
            guard algorithm.isAtEnd else { return nil }
            self = .ecdsa(sha384: oid == X509OID.ecdsaSHA384)
        } else if oid == X509OID.ed25519 {
            guard algorithm.isAtEnd else { return nil }
            self = .ed25519
        } else {
            self = .unsupported(oid)
        }
    }

    /// RSASSA-PSS-params (RFC 4055 3.1) with SHA-256/384/512 for both the
    /// hash and MGF1, and the trailer field 1; the defaults (SHA-1) are refused.
    static func pssParameters(_ parameters: inout DERReader) -> (RSAHash, Int)? {
        func hash(_ reader: inout DERReader) -> RSAHash? {
            guard var identifier = reader.element(tag: 0x30), let oid = identifier.element(tag: 0x06)?.contents else { return nil }
            if identifier.nextTag == 0x05 { guard identifier.element(tag: 0x05)?.isAtEnd == true else { return nil } }
            guard identifier.isAtEnd else { return nil }
            switch oid {
            case X509OID.sha256: return .sha256
            case X509OID.sha384: return .sha384
            case X509OID.sha512: return .sha512
            default: return nil
            }
        }
        guard var hashField = parameters.element(tag: 0xA0), let digest = hash(&hashField), hashField.isAtEnd,
              var maskField = parameters.element(tag: 0xA1), var mask = maskField.element(tag: 0x30), maskField.isAtEnd,
              mask.element(tag: 0x06)?.contents == X509OID.mgf1, let maskHash = hash(&mask), mask.isAtEnd, maskHash == digest else { return nil }
        var salt = 20
        if parameters.nextTag == 0xA2 {
            guard var saltField = parameters.element(tag: 0xA2), let value = saltField.unsignedInteger(), saltField.isAtEnd,
                  value.count <= 2 else { return nil }
            salt = value.reduce(0) { $0 << 8 | Int($1) }
        }
        if parameters.nextTag == 0xA3 {
            guard var trailerField = parameters.element(tag: 0xA3), trailerField.unsignedInteger() == [1], trailerField.isAtEnd else { return nil }
        }
        guard parameters.isAtEnd else { return nil }
        return (digest, salt)
    }

    func isValid(_ signature: [UInt8], over message: [UInt8], key: X509PublicKey) -> Bool {
        switch (self, key) {
        case (.rsaPKCS1(let hash), .rsa(let rsa)):
            return RSA.isValidPKCS1Signature(signature, for: message, hash: hash, publicKey: rsa)
        case (.rsaPSS(let hash, let salt), .rsa(let rsa)):
            return RSA.isValidPSSSignature(signature, for: message, hash: hash, saltLength: salt, publicKey: rsa)
        case (.ecdsa(let sha384), .ecdsaP256(let point)):
            return ECDSAP256.isValidSignature(signature, digest: sha384 ? SHA384.hash(message) : SHA256.hash(message), publicKey: point)
        case (.ecdsa(let sha384), .ecdsaP384(let point)):
            return ECDSAP384.isValidSignature(signature, digest: sha384 ? SHA384.hash(message) : SHA256.hash(message), publicKey: point)
        case (.ed25519, .ed25519(let point)):
            return Ed25519.isValidSignature(signature, for: message, publicKey: point)
        default:
            return false
        }
    }
}

/// Object identifiers, as the contents of their DER encoding.
enum X509OID {
    static let rsaEncryption: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]
    static let rsassaPSS: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]
    static let mgf1: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08]
    static let sha256: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]
    static let sha384: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]
    static let sha512: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]
    static let ecPublicKey: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
    static let prime256v1: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    static let secp384r1: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x22]
    static let ecdsaSHA256: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
    static let ecdsaSHA384: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]
    static let ed25519: [UInt8] = [0x2b, 0x65, 0x70]
    static let basicConstraints: [UInt8] = [0x55, 0x1d, 0x13]
    static let keyUsage: [UInt8] = [0x55, 0x1d, 0x0f]
    static let extendedKeyUsage: [UInt8] = [0x55, 0x1d, 0x25]
    static let subjectAltName: [UInt8] = [0x55, 0x1d, 0x11]
    static let certificatePolicies: [UInt8] = [0x55, 0x1d, 0x20]
    static let serverAuthentication: [UInt8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]
    static let anyExtendedKeyUsage: [UInt8] = [0x55, 0x1d, 0x25, 0x00]
}
