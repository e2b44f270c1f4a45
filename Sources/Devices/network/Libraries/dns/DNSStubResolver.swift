/// The stub resolver's I/O over any `NetworkStack`, what a stack's
/// `resolve` calls: the cache first; else, for each family the stack
/// speaks, a query over UDP from a random port with a random ID (RFC 5452),
/// to each name server in turn, waiting 1 s, then 2, then 4 a round; over
/// TCP where the answer was truncated; along CNAMEs to other names; all of
/// it within the caller's time limit. The decisions are DNSStub's.
public final class DNSStubResolver {
    let random: any EntropyDevice
    var cache = DNSCache()
    /// Queries sent (UDP and TCP), for the tests and `run --timings`.
    public private(set) var queriesSent = 0
    /// Datagrams that came to a query's port and were not its answer (RFC 5452's spoofs among them).
    public private(set) var answersIgnored = 0

    /// Names with fixed addresses, looked up before any name server (as /etc/hosts is).
    public let hosts: [(name: DNSName, address: IPAddress)]

    public init(random: any EntropyDevice, hosts: [(name: DNSName, address: IPAddress)] = []) {
        self.random = random
        self.hosts = hosts
    }

    /// The boot key `--dns`'s servers; a value that does not parse stops the unikernel, naming the key.
    public static func nameServers(fromKey text: String) -> [NameServer] {
        guard let servers = NameServer.list(text) else {
            Runtime.fatal("the boot-time key --dns is not a list of name servers such as 10.0.2.3,[2001:db8::53]:5353: ", text: text)
        }
        return servers
    }

    /// The boot key `--hosts`'s table, as `hostsTable` reads it; a value that does not parse stops the unikernel.
    public static func hosts(fromKey text: String) -> [(name: DNSName, address: IPAddress)] {
        guard let table = hostsTable(text) else {
            Runtime.fatal("the boot-time key --hosts is not a list of name=address entries such as www.example.test=192.0.2.10: ", text: text)
        }
        return table
    }

    /// The boot key `--hosts`: `name=address` entries, comma-separated (a
    /// name given twice has both addresses); nil if an entry does not parse.
    public static func hostsTable(_ text: String) -> [(name: DNSName, address: IPAddress)]? {
        if text.isEmpty { return [] }
        var table: [(name: DNSName, address: IPAddress)] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, DNSName.isHostNameText(parts[0]), let name = DNSName(String(parts[0])), !name.isRoot,
                  let address = IPAddress(String(parts[1])) else { return nil }
            table.append((name, address))
        }
        return table
    }

    /// Rounds over the servers, the first waiting `firstWait` for each answer, each after twice as long.
    static let rounds = 3
    static let firstWait: UInt64 = 1_000_000_000

    /// What `NetworkStack.resolve` promises, for `stack`, asking `servers`.
    public func resolve<Stack: NetworkStack>(_ text: String, on stack: Stack, servers: [NameServer],
                                             waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> [IPAddress] {
        if let address = IPAddress(text) { return [address] }
        guard DNSName.isHostNameText(Substring(text)), let name = DNSName(text), !name.isRoot else { throw .badName }
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        var sources: [IPAddress] = stack.ipv4.map { [.v4($0.address)] } ?? []
        sources += stack.ipv6Addresses.map { .v6($0) }
        let fixed = hosts.filter { $0.name == name }.map { $0.address }
        if !fixed.isEmpty { return AddressOrder.sorted(fixed, sources: sources) }
        // The families the stack can reach; a stack that says nothing of its addresses (the host's sockets) is asked both.
        let askIPv4 = stack.ipv4 != nil || sources.isEmpty
        let askIPv6 = stack.ipv6Addresses.contains { !$0.isLinkLocal } || sources.isEmpty
        var addresses: [IPAddress] = [], firstFailure: NetworkError?
        for type in [DNSType.aaaa, DNSType.a] where type == DNSType.a ? askIPv4 : askIPv6 {
            do throws(NetworkError) {
                addresses += try lookup(name, type: type, on: stack, servers: servers, deadline: deadline)
            } catch {
                firstFailure = firstFailure ?? error
            }
        }
        if addresses.isEmpty { throw firstFailure ?? .nameNotFound }
        return AddressOrder.sorted(addresses, sources: sources)
    }

    /// One type's addresses of `name`, from the cache or asked for, along its CNAME chain.
    func lookup<Stack: NetworkStack>(_ name: DNSName, type: UInt16, on stack: Stack, servers: [NameServer],
                                     deadline: UInt64) throws(NetworkError) -> [IPAddress] {
        if let kept = cache.lookup(name, type: type, now: Tasks.uptime) { return DNSStubResolver.addresses(kept) }
        var asked = name, chainTTL = UInt32.max
        for _ in 0..<DNSStubQuery.chainLimit {
            switch try ask(asked, type: type, on: stack, servers: servers, deadline: deadline) {
            case .addresses(let addresses, let ttl):
                cache.insert(.addresses(addresses), for: name, type: type, ttl: min(ttl, chainTTL), now: Tasks.uptime)
                return addresses
            case .alias(let target, let ttl):
                asked = target
                chainTTL = min(chainTTL, ttl)
            case .none(let nameExists, let ttl):
                if let ttl { cache.insert(.none(nameExists: nameExists), for: name, type: type, ttl: min(ttl, chainTTL), now: Tasks.uptime) }
                return []
            default:
                throw .nameServerFailed
            }
        }
        throw .nameServerFailed     // a chain longer than any real one
    }

    static func addresses(_ entry: DNSCache.Entry) -> [IPAddress] {
        if case .addresses(let addresses) = entry { return addresses }
        return []
    }

    /// One question, put to the servers in turn until one answers it: an
    /// `.addresses`, `.alias` or `.none` answer. Throws `.noNameServers`
    /// without servers, `.nameServerFailed` if each that answered failed,
    /// `.timedOut` if the deadline came first.
    func ask<Stack: NetworkStack>(_ name: DNSName, type: UInt16, on stack: Stack, servers: [NameServer],
                                  deadline: UInt64) throws(NetworkError) -> DNSStubAnswer {
        guard !servers.isEmpty else { throw .noNameServers }
        var failed = Array(repeating: false, count: servers.count)
        var noEDNS = Array(repeating: false, count: servers.count)
        var wait = DNSStubResolver.firstWait
        for _ in 0..<DNSStubResolver.rounds {
            for (index, server) in servers.enumerated() where !failed[index] {
                var query = DNSStubQuery(id: randomID(), name: name, type: type, server: server, edns: !noEDNS[index])
                var answer = try exchange(query, on: stack, deadline: min(deadline, Tasks.deadline(afterNanoseconds: wait)))
                if answer == .noEDNS {
                    noEDNS[index] = true
                    query = DNSStubQuery(id: randomID(), name: name, type: type, server: server, edns: false)
                    answer = try exchange(query, on: stack, deadline: min(deadline, Tasks.deadline(afterNanoseconds: wait)))
                }
                if answer == .truncated {
                    query = DNSStubQuery(id: randomID(), name: name, type: type, server: server, edns: !noEDNS[index])
                    answer = try exchangeOverTCP(query, on: stack, deadline: deadline)
                }
                switch answer {
                case .addresses, .alias, .none: return answer
                case .ignored: break                                  // no answer in time: the next server, or the next round
                default: failed[index] = true
                }
                if Tasks.now >= deadline { throw .timedOut }
            }
            if failed.allSatisfy({ $0 }) { throw .nameServerFailed }
            wait *= 2
        }
        throw .timedOut
    }

    /// Sends `query` from a fresh random port and waits for its answer until
    /// `deadline`: the answer, or `.ignored` if none came (the caller's own
    /// deadline may not have passed: it asks again).
    func exchange<Stack: NetworkStack>(_ query: DNSStubQuery, on stack: Stack, deadline: UInt64) throws(NetworkError) -> DNSStubAnswer {
        let socket = try randomPort(on: stack)
        defer { socket.close() }
        do throws(NetworkError) {
            try socket.send(query.bytes, to: query.server.address, port: query.server.port)
        } catch {
            if error == .cancelled { throw error }
            return .ignored                     // no route yet, or ARP unanswered: as a lost datagram
        }
        queriesSent += 1
        Counters.dnsQueries += 1
        while true {
            guard Tasks.now < deadline else { return .ignored }
            let datagram: ReceivedDatagram
            do throws(NetworkError) {
                datagram = try socket.receive(waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
            } catch {
                if error == .cancelled { throw error }
                return .ignored
            }
            let answer = query.check(datagram.data, from: datagram.source, port: datagram.sourcePort)
            if answer != .ignored { return answer }
            answersIgnored += 1
            Counters.dnsAnswersIgnored += 1
        }
    }

    /// The same question over TCP (RFC 7766): each message after its two-byte length.
    func exchangeOverTCP<Stack: NetworkStack>(_ query: DNSStubQuery, on stack: Stack, deadline: UInt64) throws(NetworkError) -> DNSStubAnswer {
        let connection = try stack.connect(to: query.server.address, port: query.server.port,
                                           waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
        defer { connection.close(waitingAtMost: 1_000_000_000) }
        let bytes = query.bytes
        try connection.write([UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes,
                             waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
        queriesSent += 1
        Counters.dnsQueries += 1
        var received: [UInt8] = []
        while true {
            if received.count >= 2 {
                let length = Int(received[0]) << 8 | Int(received[1])
                if received.count >= 2 + length {
                    let answer = query.check(Array(received[2..<(2 + length)]))
                    if answer == .ignored || answer == .truncated {
                        answersIgnored += 1
                        Counters.dnsAnswersIgnored += 1
                        return .serverFailed(rcode: 0)
                    }
                    return answer
                }
            }
            guard let more = try connection.read(atMost: 65_537 - received.count,
                                                 waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline)) else {
                return .serverFailed(rcode: 0)  // closed before the whole answer
            }
            received += more
        }
    }

    /// A UDP port chosen at random from the dynamic range (RFC 6335's 49152-65535), RFC 5452 10's advice.
    func randomPort<Stack: NetworkStack>(on stack: Stack) throws(NetworkError) -> Stack.Datagrams {
        var lastError = NetworkError.portInUse
        for _ in 0..<16 {
            let port = UInt16(49_152 + random.integer(below: 16_384))
            do throws(NetworkError) { return try stack.bind(udpPort: port) } catch { lastError = error }
        }
        throw lastError
    }

    func randomID() -> UInt16 { UInt16(random.integer(below: 65_536)) }

    /// Forgets every kept answer.
    public func flush() { cache = DNSCache() }
}
