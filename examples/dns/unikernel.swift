/// An authoritative name server: the zones of a store, answered over UDP
/// (one task) and TCP (a task per connection, several queries on one, each
/// with its two-byte length, RFC 7766). The answers are DNSAuthority's, a
/// pure function of the zones and a query's bytes; this file is the I/O.
struct NameServer {
    nonisolated(unsafe) static var answered = 0
    static var done: Bool { Keys.queries != 0 && answered >= Keys.queries }
    /// How long a TCP connection may stay idle between queries (RFC 7766 6.2.3 suggests seconds).
    static let idleNanoseconds: UInt64 = 10_000_000_000

    static func start<Stack: NetworkStack, Zones: KeyValueReader>(console: some Console, stack: Stack, kv: Zones) -> Int32 {
        guard let zones = loadZones(kv) else { return 1 }
        var transferTo: [IPAddress] = []
        for text in Keys.transferTo.split(separator: ",") where !text.isEmpty {
            guard let address = IPAddress(String(text)) else {
                print("--transfer-to: \(text) is not an IPv4 or IPv6 address")
                return 1
            }
            transferTo.append(address)
        }
        let authority = DNSAuthority(zones: zones, transferTo: transferTo)
        let port = UInt16(Keys.port)
        let socket: Stack.Datagrams, listener: Stack.Listener
        do throws(NetworkError) {
            socket = try stack.bind(udpPort: port)
            listener = try stack.listen(tcpPort: port)
        } catch {
            print("cannot use port \(port): \(error.reason.text)")
            return 1
        }
        print("serving \(zones.map { $0.origin.text }.joined(separator: " ")) on UDP and TCP port \(port)")
        var tasks: [TaskHandle] = []
        do throws(TaskError) {
            tasks.append(try Tasks.spawn(name: "dns-udp") { serveDatagrams(socket, authority) })
        } catch {
            print("cannot start a task: \(error.reason.text)")
            return 1
        }
        tasks += listener.serveEach(name: "dns-tcp", until: { done }) { serveStream($0, authority) }
        for task in tasks where !task.isFinished {
            task.cancel()
            try? task.join(waitingAtMost: 5_000_000_000)
        }
        print("answered \(answered) queries")
        return 0
    }

    /// Every file NAME.zone of the store's root, as the zone NAME; nil (after saying why) if one does not parse.
    static func loadZones(_ kv: some KeyValueReader) -> [DNSZone]? {
        let entries: [KeyValueEntry]
        do throws(KeyValueError) {
            entries = try kv.list("")
        } catch {
            print("cannot list the zones: \(error.reason.text)")
            return nil
        }
        var zones: [DNSZone] = []
        for entry in entries where entry.kind == .value && entry.name.hasSuffix(".zone") {
            let text: [UInt8]
            do throws(KeyValueError) {
                text = try kv.get(entry.name)
            } catch {
                print("cannot read zones/\(entry.name): \(error.reason.text)")
                return nil
            }
            switch DNSZone.parse(fileNamed: entry.name, text) {
            case .success(let zone):
                zones.append(zone)
            case .failure(let error):
                print(error.located(in: "zones/" + entry.name))
                return nil
            }
        }
        guard !zones.isEmpty else {
            print("no zones: the store holds no NAME.zone file")
            return nil
        }
        return zones
    }

    static func serveDatagrams(_ socket: some UDPSocket, _ authority: DNSAuthority) {
        while true {
            let datagram: ReceivedDatagram
            do throws(NetworkError) {
                datagram = try socket.receive(waitingAtMost: .max)
            } catch {
                return
            }
            for reply in authority.answer(datagram.data, over: .udp, from: datagram.source) {
                do throws(NetworkError) {
                    try socket.send(reply, to: datagram.source, port: datagram.sourcePort)
                } catch {
                    print("could not answer \(datagram.source.text):\(datagram.sourcePort): \(error.reason.text)")
                }
            }
            counted(datagram.data, from: datagram.source, over: "udp")
        }
    }

    /// Queries one after another on a connection, each a two-byte length and
    /// a message, until the client closes it or stays idle.
    static func serveStream(_ connection: some TCPStream, _ authority: DNSAuthority) {
        var pending: [UInt8] = []
        while true {
            while pending.count >= 2 {
                let length = Int(pending[0]) << 8 | Int(pending[1])
                guard pending.count >= 2 + length else { break }
                let query = Array(pending[2..<2 + length])
                pending.removeFirst(2 + length)
                let replies = authority.answer(query, over: .tcp, from: connection.remoteAddress)
                do throws(NetworkError) {
                    for reply in replies {
                        try connection.write([UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply, waitingAtMost: idleNanoseconds)
                    }
                } catch {
                    connection.abort()
                    return
                }
                counted(query, from: connection.remoteAddress, over: "tcp")
            }
            let received: [UInt8]?
            do throws(NetworkError) {
                received = try connection.read(atMost: 4096, waitingAtMost: idleNanoseconds)
            } catch {
                connection.abort()
                return
            }
            guard let received else {
                connection.close(waitingAtMost: idleNanoseconds)
                return
            }
            pending += received
        }
    }

    static func counted(_ query: [UInt8], from client: IPAddress, over transport: String) {
        answered += 1
        guard Keys.logQueries else { return }
        if case .success(let message) = DNSMessage.parse(query), let question = message.questions.first {
            print("\(transport) \(client.text) \(question.name.text) \(DNSType.name(question.type))")
        } else {
            print("\(transport) \(client.text) a malformed query")
        }
    }
}
