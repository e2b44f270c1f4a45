/// Echoes UDP datagrams back to their senders, and TCP streams back on
/// their connections (several at once), on the same port.
struct Echo {
    /// A TCP connection and what it has received but not yet sent back.
    final class Stream {
        let connection: TCPConnection
        var pending: [UInt8] = []
        var bytes = 0
        init(_ connection: TCPConnection) { self.connection = connection }

        /// Something to do: bytes to read, room for pending ones, or the peer's close.
        var isReady: Bool {
            pending.isEmpty ? connection.hasData || connection.peerClosed || connection.state == .closed : connection.sendSpace > 0
        }
    }

    static func start(console: some Console, stack: IPStack<some NetworkInterface, some Clock>) -> Int32 {
        let port = UInt16(Keys.port)
        do throws(NetworkError) {
            try stack.bindUDP(port: port)
            try stack.listenTCP(port: port)
        } catch {
            print("cannot use port \(port): \(error.reason.text)")
            return 1
        }
        print("echoing UDP and TCP on \(IPv4Text.text(stack.address)):\(port)")
        var datagrams = 0, connections = 0
        var streams: [Stream] = []
        if !Keys.connect.isEmpty {
            // An active open: the connection is echoed like an accepted one.
            guard let peer = IPv4Text.address(Keys.connect).map(IPAddress.v4) ?? IPv6Address(Keys.connect).map(IPAddress.v6) else {
                print("--connect is not an IPv4 or IPv6 address: \(Keys.connect)")
                return 1
            }
            // A server still starting refuses, and an IPv6 peer is unreachable
            // until SLAAC has given an address: a minute of tries, a second apart.
            var tries = 0
            while true {
                do throws(NetworkError) {
                    let connection = try stack.connectTCP(to: peer, port: UInt16(Keys.connectPort), waitingAtMost: 10_000_000_000)
                    print("connected from \(connection.localAddress.text) to \(peer.text):\(Keys.connectPort)")
                    streams.append(Stream(connection))
                    break
                } catch {
                    tries += 1
                    guard error == .refused || error == .unreachable, tries < 60 else {
                        print("cannot connect to \(peer.text):\(Keys.connectPort): \(error.reason.text)")
                        return 1
                    }
                    stack.serve(forAtMost: 1_000_000_000)
                }
            }
        }
        var closing: [TCPConnection] = []
        while Keys.count == 0 || datagrams + connections < Keys.count {
            stack.serve(forAtMost: 1_000_000_000) {
                stack.hasDatagram(on: port) || stack.hasConnection(on: port) || streams.contains { $0.isReady }
            }
            while let datagram = stack.receiveUDP(on: port, waitingAtMost: 0) {
                do throws(NetworkError) {
                    try stack.sendUDP(datagram.data, to: datagram.source, port: datagram.sourcePort, from: port)
                    datagrams += 1
                } catch {
                    print("could not answer \(datagram.source.text):\(datagram.sourcePort): \(error.reason.text)")
                }
            }
            while let connection = stack.acceptTCP(on: port, waitingAtMost: 0) { streams.append(Stream(connection)) }
            for stream in streams where stream.isReady {
                do throws(NetworkError) {
                    if stream.pending.isEmpty {
                        guard let bytes = try stack.readTCP(stream.connection, atMost: 65_536, waitingAtMost: 0) else {
                            // The peer is done and has everything back: close our side too.
                            stack.closeTCP(stream.connection, waitingAtMost: 0)
                            closing.append(stream.connection)
                            print("echoed a TCP stream of \(stream.bytes) bytes")
                            connections += 1
                            stream.pending = []
                            streams.removeAll { $0 === stream }
                            continue
                        }
                        stream.pending = bytes
                        stream.bytes += bytes.count
                    }
                    stream.pending.removeFirst(try stack.offerTCP(stream.connection, stream.pending[...]))
                } catch {
                    print("a TCP stream ended: \(error.reason.text)")
                    stack.abortTCP(stream.connection)
                    streams.removeAll { $0 === stream }
                }
            }
        }
        // Before stopping, let the peers have what is still in flight.
        stack.serve(forAtMost: 10_000_000_000) {
            closing.allSatisfy { $0.state == .closed || $0.state == .timeWait || $0.state == .finWait2 }
        }
        // The IPv6 addresses it ended with: link-local, and any from SLAAC.
        print("IPv6 addresses: \(stack.ipv6Addresses.map { $0.text }.joined(separator: " "))")
        print("echoed \(datagrams) datagrams and \(connections) TCP streams")
        return 0
    }
}
