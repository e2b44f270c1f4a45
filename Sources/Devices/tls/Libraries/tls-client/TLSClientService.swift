/// TLS 1.3 clients over `Stack`: each connection is a TCP connection whose
/// handshake runs in `connect`, so that a connection it returns has a
/// server whose certificate chain and name were checked, now or in the
/// session it resumed: the newest ticket of each server (address, port and
/// name) is kept in memory, for the next connection to offer once.
public final class TLSClientService<Stack: NetworkStack>: TLSClients {
    let stack: Stack
    let random: any EntropyDevice
    let wallClock: any WallClock
    /// Nil when the store lacked a usable bundle: connect refuses.
    let trustStore: X509TrustStore?
    let applicationProtocols: [String]
    public private(set) var lastFailure: String?
    /// Each server's newest session, oldest first; a ticket is offered once (RFC 8446 C.4).
    var sessions: [(server: String, session: TLSSession)] = []
    /// How many servers' sessions are kept; past it, the oldest goes.
    let keptSessions = 16

    public init(stack: Stack, random: any EntropyDevice, wallClock: any WallClock, trustStore: X509TrustStore?, applicationProtocols: String) {
        self.stack = stack
        self.random = random
        self.wallClock = wallClock
        self.trustStore = trustStore
        self.applicationProtocols = applicationProtocols.split(separator: ",").map(String.init)
    }

    public func connect(to address: IPAddress, port: UInt16, serverName: String,
                        waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> TLSConnection<Stack.Connection, TLSClient> {
        guard let trustStore else { throw .noCredentials }
        let random = self.random, wallClock = self.wallClock
        var configuration = TLSClientConfiguration(trustStore: trustStore, serverName: serverName)
        configuration.applicationProtocols = applicationProtocols
        let server = "\(address.text) \(port) \(serverName)"
        if let index = sessions.firstIndex(where: { $0.server == server }) { configuration.session = sessions.remove(at: index).session }
        var machine = TLSClient(configuration: configuration, random: { random.bytes($0) }, time: { wallClock.now() })
        let tcp = try stack.connect(to: address, port: port, waitingAtMost: nanoseconds)
        let hello = machine.start()
        do throws(NetworkError) {
            try tcp.write(hello[...], waitingAtMost: nanoseconds)
        } catch {
            tcp.abort()
            throw error
        }
        let connection = TLSConnection(inner: tcp, machine: machine) { session in self.keep(session, for: server) }
        do throws(NetworkError) {
            try connection.finishHandshake(waitingAtMost: nanoseconds)
        } catch {
            if let failure = connection.certificateFailure {
                lastFailure = failure.description
            } else if let alert = connection.alert {
                lastFailure = "the handshake ended with alert \(alert.rawValue)"
            } else {
                lastFailure = "the handshake failed: " + error.reason.text
            }
            throw error
        }
        lastFailure = nil
        return connection
    }

    func keep(_ session: TLSSession, for server: String) {
        sessions.removeAll { $0.server == server }
        if sessions.count == keptSessions { sessions.removeFirst() }
        sessions.append((server, session))
    }
}

/// A client's trust anchors, read from a key-value store.
public enum TLSTrustAnchors {
    /// The certificates of the PEM bundle `bundle`; nil, after saying why on
    /// the console, if it is missing or holds none this library can use.
    public static func load(from store: some KeyValueReader, bundle: String) -> X509TrustStore? {
        guard let text = try? store.get(bundle) else {
            print("tls: no trust anchors '\(bundle)' in the store")
            return nil
        }
        guard let (trustStore, _) = X509TrustStore.bundle(pem: text), !trustStore.anchors.isEmpty else {
            print("tls: '\(bundle)' holds no PEM certificate")
            return nil
        }
        return trustStore
    }
}
