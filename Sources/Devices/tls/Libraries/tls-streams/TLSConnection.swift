/// One TLS connection over one TCP connection: a byte stream each way.
public final class TLSConnection<Inner: TCPStream, Machine: TLSMachine>: TLSStream {
    let inner: Inner
    var machine: Machine
    /// Application data received and not yet read.
    var plaintext: [UInt8] = []
    /// The alert that ended the connection, if one did.
    public private(set) var alert: TLSAlert?
    /// Given each session a server's ticket makes resumable (a client's connections).
    let keepSession: ((TLSSession) -> Void)?

    public init(inner: Inner, machine: Machine, keepSession: ((TLSSession) -> Void)? = nil) {
        self.inner = inner
        self.machine = machine
        self.keepSession = keepSession
    }

    public var resumed: Bool { machine.resumed }
    public var applicationProtocol: String? { machine.applicationProtocol }

    public var localAddress: IPAddress { inner.localAddress }
    public var localPort: UInt16 { inner.localPort }
    public var remoteAddress: IPAddress { inner.remoteAddress }
    public var remotePort: UInt16 { inner.remotePort }
    public var retransmissions: Int { inner.retransmissions }

    /// Application data, running the handshake first if it has not run; nil
    /// once the peer has closed (close_notify, or TCP's end).
    public func read(atMost count: Int, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [UInt8]? {
        while plaintext.isEmpty {
            guard !machine.isClosed, !machine.peerClosed, try receive(waitingAtMost: nanoseconds) else { return nil }
        }
        let taken = min(count, plaintext.count)
        defer { plaintext.removeFirst(taken) }
        return Array(plaintext.prefix(taken))
    }

    /// Sends `bytes` in records, once the handshake is done.
    public func write(_ bytes: ArraySlice<UInt8>, waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        try awaitHandshake(waitingAtMost: nanoseconds)
        try inner.write(machine.send(Array(bytes))[...], waitingAtMost: nanoseconds)
    }

    /// Sends close_notify, then closes TCP.
    public func close(waitingAtMost nanoseconds: UInt64) {
        let closing = machine.close()
        if !closing.isEmpty { try? inner.write(closing[...], waitingAtMost: nanoseconds) }
        inner.close(waitingAtMost: nanoseconds)
    }

    public func abort() { inner.abort() }

    /// Runs the handshake to its end; TCP is aborted if it fails.
    public func finishHandshake(waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        do throws(NetworkError) {
            try awaitHandshake(waitingAtMost: nanoseconds)
        } catch {
            inner.abort()
            throw error
        }
    }

    /// Feeds TCP to the state machine until the handshake is done; `closed` if it ended first.
    func awaitHandshake(waitingAtMost nanoseconds: UInt64) throws(NetworkError) {
        while !machine.isConnected {
            guard !machine.isClosed, try receive(waitingAtMost: nanoseconds) else { throw .closed }
        }
    }

    /// Feeds one TCP read to the state machine and sends what it answers;
    /// false at TCP's end. A fatal alert either way throws tlsFailed.
    func receive(waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Bool {
        guard let bytes = try inner.read(atMost: TLSContentType.maximumCiphertext + 5, waitingAtMost: nanoseconds) else { return false }
        let output = machine.receive(bytes)
        if !output.toSend.isEmpty { try inner.write(output.toSend[...], waitingAtMost: nanoseconds) }
        plaintext += output.received
        if let session = output.session { keepSession?(session) }
        if output.closed, let alert = output.alert, alert != .closeNotify {
            self.alert = alert
            throw .tlsFailed
        }
        return true
    }
}

extension TLSConnection where Machine == TLSServer {
    /// The host name the client asked for (SNI), once the handshake is under way.
    public var serverName: String? { machine.serverName }
}

extension TLSConnection where Machine == TLSClient {
    /// Why the server's certificate was refused, if it was.
    public var certificateFailure: X509Error? { machine.certificateFailure }
}
