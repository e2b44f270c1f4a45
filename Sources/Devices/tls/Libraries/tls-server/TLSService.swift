/// TLS 1.3 servers over `Stack`, with certificate chains and keys read once
/// from a key-value store. Each connection wraps a TCP connection and the
/// TLS state machine; the bytes the machine produces go straight to TCP.
public final class TLSService<Stack: NetworkStack>: TLSServers {
    let stack: Stack
    let random: any EntropyDevice
    let clock: any Clock
    /// Nil when the store lacked a usable certificate and key: listen refuses.
    let configuration: TLSServerConfiguration?

    /// Session tickets are sealed with a key drawn now: they resume sessions
    /// until the unikernel stops, and no longer.
    public init(stack: Stack, random: any EntropyDevice, clock: any Clock, configuration: TLSServerConfiguration?) {
        self.stack = stack
        self.random = random
        self.clock = clock
        self.configuration = configuration.map { configuration in
            var withTickets = configuration
            withTickets.ticketKey = random.bytes(32)
            return withTickets
        }
    }

    public func listen(tlsPort port: UInt16) throws(NetworkError) -> TLSListener<Stack.Listener> {
        guard let configuration else { throw .noCredentials }
        return TLSListener(inner: try stack.listen(tcpPort: port), configuration: configuration, random: random, clock: clock)
    }
}

/// A server's certificate chains and keys, read from a key-value store.
public enum TLSCredentials {
    /// The chains from the PEM files `certificates` and their keys from the
    /// PEM files `privateKeys` (keys of the store, one per line, in pairs:
    /// the first pair is the default; the others are chosen by the names
    /// their certificates carry), each checked to belong together; nil,
    /// after saying why on the console, if any is missing or unusable.
    /// `applicationProtocols`: ALPN names separated by commas ("" for none).
    public static func load(from store: some KeyValueReader, certificates: String, privateKeys: String,
                            applicationProtocols: String) -> TLSServerConfiguration? {
        let certificateKeys = certificates.split(separator: "\n").map(String.init)
        let privateKeyKeys = privateKeys.split(separator: "\n").map(String.init)
        guard !certificateKeys.isEmpty, certificateKeys.count == privateKeyKeys.count else {
            print("tls: not one private key for each certificate")
            return nil
        }
        var identities: [TLSIdentity] = []
        for (certificate, privateKey) in zip(certificateKeys, privateKeyKeys) {
            switch read(store: store, certificate: certificate, privateKey: privateKey) {
            case .success(let identity): identities.append(identity)
            case .failure(let problem):
                print("tls: \(problem.text)")
                return nil
            }
        }
        return TLSServerConfiguration(identities: identities,
                                      applicationProtocols: applicationProtocols.split(separator: ",").map(String.init))
    }

    public struct Problem: Error, Equatable { public let text: String }

    /// One chain and its key.
    public static func read(store: some KeyValueReader, certificate: String, privateKey: String) -> Result<TLSIdentity, Problem> {
        guard let certificateText = try? store.get(certificate) else { return .failure(Problem(text: "no certificate '\(certificate)' in the store")) }
        guard let keyText = try? store.get(privateKey) else { return .failure(Problem(text: "no private key '\(privateKey)' in the store")) }
        guard let chain = PEM.blocks("CERTIFICATE", in: certificateText), !chain.isEmpty else {
            return .failure(Problem(text: "'\(certificate)' holds no PEM certificate"))
        }
        // PKCS#8 ("PRIVATE KEY"), or for P-256 also SEC 1 ("EC PRIVATE KEY", from openssl ecparam -genkey).
        let pkcs8 = PEM.blocks("PRIVATE KEY", in: keyText) ?? [], sec1 = PEM.blocks("EC PRIVATE KEY", in: keyText) ?? []
        guard pkcs8.count + sec1.count == 1 else {
            return .failure(Problem(text: "'\(privateKey)' holds not one PEM private key"))
        }
        // The certificate's subjectPublicKeyInfo must hold the key's public half:
        // the BIT STRING of RFC 8410 section 4 (Ed25519) or RFC 5480 (P-256).
        let key: TLSPrivateKey, publicKeyBits: [UInt8]
        if let ed25519 = pkcs8.first.flatMap(PEM.ed25519PrivateKey(pkcs8:)) {
            key = .ed25519(ed25519)
            publicKeyBits = [0x03, 0x21, 0x00] + Ed25519.publicKey(privateKey: ed25519)
        } else if let p256 = pkcs8.first.flatMap(PEM.p256PrivateKey(pkcs8:)) ?? sec1.first.flatMap(PEM.p256PrivateKey(sec1:)) {
            key = .ecdsaP256(p256)
            publicKeyBits = [0x03, 0x42, 0x00] + P256.publicKey(privateKey: p256)
        } else {
            return .failure(Problem(text: "'\(privateKey)' is neither a PKCS#8 Ed25519 nor a P-256 key (openssl genpkey makes either)"))
        }
        guard firstIndex(of: publicKeyBits, in: chain[0]) != nil else {
            return .failure(Problem(text: "the key in '\(privateKey)' is not the key of the first certificate in '\(certificate)'"))
        }
        return .success(TLSIdentity(certificateChain: chain, privateKey: key))
    }
}

/// A port that accepts TLS connections.
public final class TLSListener<Inner: TCPListener>: TCPListener {
    let inner: Inner
    let configuration: TLSServerConfiguration
    let random: any EntropyDevice
    let clock: any Clock

    init(inner: Inner, configuration: TLSServerConfiguration, random: any EntropyDevice, clock: any Clock) {
        self.inner = inner
        self.configuration = configuration
        self.random = random
        self.clock = clock
    }

    public var port: UInt16 { inner.port }

    /// The next TCP connection, its handshake still to come.
    public func accept(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> TLSConnection<Inner.Connection, TLSServer> {
        let random = self.random, clock = self.clock
        return TLSConnection(inner: try inner.accept(waitingAtMost: nanoseconds),
                             machine: TLSServer(configuration: configuration, random: { random.bytes($0) },
                                                seconds: { clock.now() / 1_000_000_000 }))
    }

    public func close() { inner.close() }
}
