// What a unikernel sees of TLS: servers and clients over its network stack whose
// connections are byte streams like TCP's, so that a job written for
// `some TCPStream` (an HTTP server) serves HTTPS unchanged.

/// TLS 1.3 servers over the network stack: the job takes it as `tls: some TLSServers`.
public protocol TLSServers: AnyObject {
    associatedtype Listener: TCPListener
    /// Accepts TLS connections to `port`. A connection's handshake runs in
    /// the task that first reads or writes it, so that a slow client holds
    /// up only its own task. `noCredentials` if the device has no certificate.
    func listen(tlsPort port: UInt16) throws(NetworkError) -> Listener
}

/// A TLS connection: a byte stream like TCP's, and what its handshake settled.
public protocol TLSStream: TCPStream {
    /// Whether the handshake resumed an earlier session from its ticket (RFC
    /// 8446 2.2): a fresh key exchange, and no certificate this time.
    var resumed: Bool { get }
    /// The ALPN protocol agreed on, if any.
    var applicationProtocol: String? { get }
}

/// TLS 1.3 clients over the network stack: the job takes it as `tls: some TLSClients`.
public protocol TLSClients: AnyObject {
    associatedtype Connection: TLSStream
    /// A TLS connection to `address`, its handshake done: the server's chain
    /// validated against the device's trust anchors for `serverName`, at the
    /// wall clock's time, unless it resumed a session a connection before
    /// made with the same server, port and name (the device keeps each one's
    /// newest ticket while the unikernel runs). `tlsFailed` if the handshake failed (`lastFailure`
    /// says why: the certificate's problem or the alert), `noCredentials` if
    /// the device has no trust anchors.
    func connect(to address: IPAddress, port: UInt16, serverName: String,
                 waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection
    /// Why the last `connect` failed, for a message; nil after one succeeded.
    var lastFailure: String? { get }
}
