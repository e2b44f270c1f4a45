/// Why a certificate chain was not accepted: each names the certificate (by
/// its subject's common name) and what was wrong, for a message a person
/// can act on (TLS maps each to the alert RFC 8446 6.2 names for it).
public enum X509Error: Error, Equatable {
    /// The peer's certificate (or one of its chain) did not parse.
    case malformed(position: Int)
    /// The unikernel does not know the time: no real-time clock and no `--time`.
    case noTrustedTime
    case expired(name: String, notAfter: UTCTime)
    case notYetValid(name: String, notBefore: UTCTime)
    /// No trust anchor issued the chain's last certificate.
    case unknownIssuer(name: String)
    case badSignature(name: String)
    /// Its signature algorithm or its issuer's key is not supported here (SHA-1, P-384, ...).
    case unsupportedAlgorithm(name: String)
    /// An issuer without basicConstraints cA, or whose key may not sign certificates.
    case notACertificateAuthority(name: String)
    case pathTooLong(name: String)
    /// The leaf does not name the host in its subjectAltName.
    case nameMismatch(host: String, names: [String])
    /// keyUsage or extKeyUsage forbid a TLS server's use.
    case wrongKeyUsage(name: String)
    case unknownCriticalExtension(name: String)

    public var description: String {
        switch self {
        case .malformed(let position): return "certificate \(position) of the chain is malformed or uses an algorithm not supported"
        case .noTrustedTime: return "no trusted time to check the certificate's dates (no real-time clock; give --time)"
        case .expired(let name, let notAfter): return "the certificate of '\(name)' expired at \(notAfter.iso8601)"
        case .notYetValid(let name, let notBefore): return "the certificate of '\(name)' is valid only from \(notBefore.iso8601)"
        case .unknownIssuer(let name): return "no trusted certificate issued that of '\(name)'"
        case .badSignature(let name): return "the signature on the certificate of '\(name)' does not verify"
        case .unsupportedAlgorithm(let name):
            return "the certificate of '\(name)' is signed with an algorithm or key not supported here (RSA, ECDSA P-256 and Ed25519 are)"
        case .notACertificateAuthority(let name): return "'\(name)' issued a certificate but is not a certificate authority"
        case .pathTooLong(let name): return "the chain is longer than '\(name)' allows"
        case .nameMismatch(let host, let names):
            return "the certificate is for " + (names.isEmpty ? "no host name" : names.joined(separator: ", ")) + ", not \(host)"
        case .wrongKeyUsage(let name): return "the certificate of '\(name)' is not for TLS servers"
        case .unknownCriticalExtension(let name): return "the certificate of '\(name)' has a critical extension not understood here"
        }
    }
}

/// Trust anchors and the check of a server's chain against them (RFC 5280
/// section 6, the parts a TLS client needs): a path from the leaf through
/// the chain's intermediates to an anchor, each link's signature, every
/// certificate's dates, basicConstraints and keyUsage on each issuer and
/// their path lengths, the leaf's serverAuth use and host name, and no
/// critical extension left not understood. The anchors are taken as
/// trusted names and keys (their own dates are checked too, as OpenSSL does).
public struct X509TrustStore {
    public private(set) var anchors: [X509Certificate] = []
    /// At most this many intermediates between a leaf and an anchor.
    static let maximumIntermediates = 8

    public init(anchors: [X509Certificate]) { self.anchors = anchors }

    /// The anchors in a PEM bundle (a file of CERTIFICATE blocks, such as
    /// Debian's /etc/ssl/certs/ca-certificates.crt); nil if the text is not
    /// PEM. Certificates that do not parse are skipped and counted, since a
    /// bundle carries keys (P-384, RSA under 2048 bits) not supported here.
    public static func bundle(pem text: [UInt8]) -> (store: X509TrustStore, skipped: Int)? {
        guard let blocks = PEM.blocks("CERTIFICATE", in: text) else { return nil }
        let parsed = blocks.compactMap { X509Certificate(der: $0) }
        return (X509TrustStore(anchors: parsed), blocks.count - parsed.count)
    }

    /// The leaf, if `chain` (DER, the server's first, as TLS sends it) is
    /// valid for `host` at `time`; else why not.
    public func validate(chain: [[UInt8]], host: String, at time: UTCTime?) -> Result<X509Certificate, X509Error> {
        guard let time else { return .failure(.noTrustedTime) }
        var certificates: [X509Certificate] = []
        for (position, der) in chain.enumerated() {
            guard let certificate = X509Certificate(der: der) else { return .failure(.malformed(position: position)) }
            certificates.append(certificate)
        }
        guard let leaf = certificates.first else { return .failure(.malformed(position: 0)) }
        if let failure = checkOwnFields(leaf, at: time) { return .failure(failure) }
        if let usage = leaf.keyUsage, !bit(0, of: usage) { return .failure(.wrongKeyUsage(name: leaf.commonName)) }
        if let purposes = leaf.extendedKeyUsages,
           !purposes.contains(X509OID.serverAuthentication) && !purposes.contains(X509OID.anyExtendedKeyUsage) {
            return .failure(.wrongKeyUsage(name: leaf.commonName))
        }
        guard leaf.matches(host: host) else { return .failure(.nameMismatch(host: host, names: leaf.dnsNames)) }

        // A leaf that is itself an anchor (a pinned self-signed certificate) is trusted as it is.
        if anchors.contains(where: { $0.der == leaf.der }) { return .success(leaf) }
        var current = leaf
        var intermediates = 0
        var unused = Array(certificates.dropFirst())
        while true {
            if let anchor = anchors.first(where: { $0.subject == current.issuer && current.isSigned(by: $0.publicKey) }) {
                if let failure = checkIssuer(anchor, intermediatesBelow: intermediates, at: time) { return .failure(failure) }
                return .success(leaf)
            }
            // Else an intermediate the server sent whose subject is the issuer.
            guard let index = unused.firstIndex(where: { $0.subject == current.issuer }) else {
                // An anchor by that name whose key or algorithm cannot be checked here says so.
                if anchors.contains(where: { $0.subject == current.issuer && !current.canBeChecked(by: $0.publicKey) }) {
                    return .failure(.unsupportedAlgorithm(name: current.commonName))
                }
                return .failure(.unknownIssuer(name: current.commonName))
            }
            let issuer = unused.remove(at: index)
            guard current.isSigned(by: issuer.publicKey) else {
                return .failure(current.canBeChecked(by: issuer.publicKey) ? .badSignature(name: current.commonName)
                                                                           : .unsupportedAlgorithm(name: current.commonName))
            }
            if let failure = checkIssuer(issuer, intermediatesBelow: intermediates, at: time) {
                return .failure(failure)
            }
            intermediates += 1
            guard intermediates <= X509TrustStore.maximumIntermediates else { return .failure(.pathTooLong(name: issuer.commonName)) }
            current = issuer
        }
    }

    /// Dates and critical extensions, which every certificate of the path must pass.
    func checkOwnFields(_ certificate: X509Certificate, at time: UTCTime) -> X509Error? {
        if time < certificate.notBefore { return .notYetValid(name: certificate.commonName, notBefore: certificate.notBefore) }
        if time > certificate.notAfter { return .expired(name: certificate.commonName, notAfter: certificate.notAfter) }
        if certificate.unknownCriticalExtension != nil { return .unknownCriticalExtension(name: certificate.commonName) }
        return nil
    }

    /// What an issuer must be: a CA whose key may sign certificates, with
    /// room in its path length for the intermediates below it; in date.
    func checkIssuer(_ issuer: X509Certificate, intermediatesBelow: Int, at time: UTCTime) -> X509Error? {
        if let failure = checkOwnFields(issuer, at: time) { return failure }
        guard issuer.isCertificateAuthority else { return .notACertificateAuthority(name: issuer.commonName) }
        if let usage = issuer.keyUsage, !bit(5, of: usage) { return .notACertificateAuthority(name: issuer.commonName) }
        if let limit = issuer.pathLengthLimit, intermediatesBelow > limit { return .pathTooLong(name: issuer.commonName) }
        return nil
    }

    /// Bit `index` of a BIT STRING (bit 0 is the first byte's highest).
    func bit(_ index: Int, of bits: [UInt8]) -> Bool {
        index / 8 < bits.count && bits[index / 8] & (0x80 >> UInt8(index % 8)) != 0
    }
}
