// What a unikernel sees of TLS: servers over its network stack whose
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
