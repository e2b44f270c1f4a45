/// Echoes UDP datagrams back to their senders, and TCP streams back on
/// their connections, on the same port: UDP in a task of its own, each TCP
/// connection in its own, and with `--connect` an outgoing connection too.
struct Echo {
    /// Datagrams and streams echoed so far, by every task.
    nonisolated(unsafe) static var datagrams = 0
    nonisolated(unsafe) static var streams = 0
    static var done: Bool { Keys.count != 0 && datagrams + streams >= Keys.count }

    static func start<Stack: NetworkStack>(console: some Console, stack: Stack) -> Int32 {
        let port = UInt16(Keys.port)
        let socket: Stack.Datagrams, listener: Stack.Listener
        do throws(NetworkError) {
            socket = try stack.bind(udpPort: port)
            listener = try stack.listen(tcpPort: port)
        } catch {
            print("cannot use port \(port): \(error.reason.text)")
            return 1
        }
        print("echoing UDP and TCP on \(stack.ipv4.map { IPv4Text.text($0.address) } ?? "[::]"):\(port)")
        var tasks: [TaskHandle] = []
        do throws(TaskError) {
            tasks.append(try Tasks.spawn(name: "udp-echo") { echoDatagrams(socket) })
            if !Keys.connect.isEmpty {
                guard let peer = IPAddress(Keys.connect) else {
                    print("--connect is not an IPv4 or IPv6 address: \(Keys.connect)")
                    return 1
                }
                tasks.append(try Tasks.spawn(name: "tcp-connect") { connectAndEcho(stack, to: peer) })
            }
        } catch {
            print("cannot start a task: \(error.reason.text)")
            return 1
        }
        tasks += listener.serveEach(name: "tcp-echo", until: { done }) { echoStream($0) }
        // Before stopping, let the peers have what is still in flight.
        for task in tasks where !task.isFinished {
            task.cancel()
            try? task.join(waitingAtMost: 10_000_000_000)
        }
        // The IPv6 addresses it ended with: link-local, and any from SLAAC.
        print("IPv6 addresses: \(stack.ipv6Addresses.map { $0.text }.joined(separator: " "))")
        print("echoed \(datagrams) datagrams and \(streams) TCP streams")
        return 0
    }

    /// Every datagram back to its sender, until cancelled.
    static func echoDatagrams(_ socket: some UDPSocket) {
        while true {
            let datagram: ReceivedDatagram
            do throws(NetworkError) {
                datagram = try socket.receive(waitingAtMost: .max)
            } catch {
                return
            }
            do throws(NetworkError) {
                try socket.send(datagram.data, to: datagram.source, port: datagram.sourcePort)
                datagrams += 1
            } catch {
                print("could not answer \(datagram.source.text):\(datagram.sourcePort): \(error.reason.text)")
            }
        }
    }

    /// A stream back on its connection until the peer closes its side; then ours.
    static func echoStream(_ connection: some TCPStream) {
        var bytes = 0
        do throws(NetworkError) {
            while let received = try connection.read(atMost: 65_536, waitingAtMost: .max) {
                try connection.write(received, waitingAtMost: 60_000_000_000)
                bytes += received.count
            }
        } catch {
            // Cancelled: the job is stopping, and this stream is not one it counts.
            if error == .cancelled {
                connection.close(waitingAtMost: 0)
            } else {
                print("a TCP stream ended: \(error.reason.text)")
                connection.abort()
            }
            return
        }
        // The peer is done and has everything back: close our side too.
        connection.close(waitingAtMost: 10_000_000_000)
        print("echoed a TCP stream of \(bytes) bytes")
        streams += 1
    }

    /// The other way round: opens a connection and echoes what comes on it.
    /// A server still starting refuses, and an IPv6 peer is unreachable until
    /// SLAAC has given an address: a minute of tries, a second apart.
    static func connectAndEcho(_ stack: some NetworkStack, to peer: IPAddress) {
        var tries = 0
        while true {
            do throws(NetworkError) {
                let connection = try stack.connect(to: peer, port: UInt16(Keys.connectPort), waitingAtMost: 10_000_000_000)
                print("connected from \(connection.localAddress.text) to \(peer.text):\(Keys.connectPort)")
                echoStream(connection)
                return
            } catch {
                tries += 1
                guard error == .refused || error == .unreachable || error == .timedOut, tries < 60 else {
                    print("cannot connect to \(peer.text):\(Keys.connectPort): \(error.reason.text)")
                    return
                }
                guard (try? Tasks.sleep(nanoseconds: 1_000_000_000)) != nil else { return }
            }
        }
    }
}
