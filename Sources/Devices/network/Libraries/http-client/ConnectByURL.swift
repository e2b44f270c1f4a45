/// Connecting by name, as MirageOS's conduit let code connect by URI: the
/// name resolved by the stack's own resolver, then its addresses tried as
/// Happy Eyeballs v2 says (RFC 8305): the families interleaved (section
/// 4), each attempt started 250 ms after the one before unless that one
/// failed sooner (section 5's Connection Attempt Delay), the first to
/// connect kept and the others dropped, so that a dead IPv6 path costs a
/// quarter of a second, not a TCP timeout.
extension NetworkStack {
    /// A TCP connection to `url`'s host and port: `tcp://HOST:PORT` or
    /// `http://HOST[:PORT]/...` (`https://` is a TLS client's, which needs
    /// the TLS device). `.badName` if the URL does not parse.
    public func connect(url text: String, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection {
        guard let url = NetworkURL(text), url.scheme == "tcp" || url.scheme == "http" else { throw .badName }
        return try connect(to: url, waitingAtMost: nanoseconds)
    }

    /// A TCP connection to `url`'s host (resolved) and port.
    public func connect(to url: NetworkURL, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        let addresses = try resolve(url.host, waitingAtMost: nanoseconds)
        return try connect(toFirstOf: addresses, port: url.port, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
    }

    /// The first connection made to one of `addresses` (in the resolver's
    /// order) on `port`, by RFC 8305's race; the last failure if none
    /// connects within `nanoseconds`.
    public func connect(toFirstOf addresses: [IPAddress], port: UInt16, waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection {
        try HappyEyeballs.race(addresses, waitingAtMost: nanoseconds) { address, left throws(NetworkError) in
            try self.connect(to: address, port: port, waitingAtMost: left)
        }
    }
}

extension TLSClients {
    /// A TLS connection to `url` (`https://HOST[:PORT]/...`): the host
    /// resolved by `stack`, its addresses raced as `connect(toFirstOf:)`
    /// races them (each attempt a TCP connection and its handshake), the
    /// server's certificate checked for the URL's host name.
    public func connect<Stack: NetworkStack>(to url: NetworkURL, resolvingWith stack: Stack,
                                             waitingAtMost nanoseconds: UInt64) throws(NetworkError) -> Connection {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        let addresses = try stack.resolve(url.host, waitingAtMost: nanoseconds)
        return try HappyEyeballs.race(addresses, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline)) { address, left throws(NetworkError) in
            try self.connect(to: address, port: url.port, serverName: url.host, waitingAtMost: left)
        }
    }
}

/// RFC 8305's race, and its parts that are not I/O.
public enum HappyEyeballs {
    /// The first of `attempt`'s connections to one of `addresses` to succeed:
    /// the attempts start in `interleaved` order, each a task, the next when
    /// the one before failed or `attemptDelay` passed; the others are
    /// cancelled (or, connected too late, aborted). `attempt` takes an address
    /// and the nanoseconds left. The last failure if none succeeds in time.
    public static func race<Connection: TCPStream>(_ addresses: [IPAddress], waitingAtMost nanoseconds: UInt64,
                                                   attempt: @escaping (IPAddress, UInt64) throws(NetworkError) -> Connection)
        throws(NetworkError) -> Connection {
        let ordered = interleaved(addresses)
        guard ordered.count > 1 else {
            guard let only = ordered.first else { throw .nameNotFound }
            return try attempt(only, nanoseconds)
        }
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        let race = Race<Connection>()
        var attempts: [TaskHandle] = []
        defer {
            for task in attempts where !task.isFinished { task.cancel() }
            for task in attempts { try? task.join(waitingAtMost: 5_000_000_000) }
        }
        for (index, address) in ordered.enumerated() {
            do throws(TaskError) {
                attempts.append(try Tasks.spawn(name: "connect", stackSize: attemptStackSize) {
                    race.attempt { () throws(NetworkError) -> Connection in try attempt(address, Tasks.nanoseconds(untilDeadline: deadline)) }
                })
            } catch {
                race.failed(.noDevice)      // no room for a task: as an attempt that failed at once
            }
            // The next attempt starts when this one fails, or after the delay, whichever comes first.
            let started = index + 1, isLast = index + 1 == ordered.count
            let next = isLast ? deadline : min(deadline, Tasks.deadline(afterNanoseconds: attemptDelay))
            do throws(WaitError) {
                try race.changed.wait(until: { race.winner != nil || race.failures >= started }, deadline: next)
            } catch {
                if error == .cancelled { throw .cancelled }
            }
            if race.winner != nil || Tasks.now >= deadline { break }
        }
        do throws(WaitError) {
            try race.changed.wait(until: { race.winner != nil || race.failures >= attempts.count }, deadline: deadline)
        } catch {
            if error == .cancelled { throw .cancelled }
        }
        if let winner = race.winner { return winner }
        throw race.lastFailure ?? .timedOut
    }

    /// Section 5: 250 ms between attempts, the recommended Connection Attempt Delay.
    public static let attemptDelay: UInt64 = 250_000_000
    /// An attempt's task: a TCP connection's, or one with its TLS handshake (X.509 and signature checks).
    static let attemptStackSize = 32 * 1024

    /// Section 4: the addresses alternate between the families, starting
    /// with the first's, each family's in the order given.
    public static func interleaved(_ addresses: [IPAddress]) -> [IPAddress] {
        guard let first = addresses.first else { return [] }
        let isSix = { (address: IPAddress) -> Bool in if case .v6 = address { return true } else { return false } }
        let preferred = addresses.filter { isSix($0) == isSix(first) }, other = addresses.filter { isSix($0) != isSix(first) }
        var result: [IPAddress] = []
        for index in 0..<max(preferred.count, other.count) {
            if index < preferred.count { result.append(preferred[index]) }
            if index < other.count { result.append(other[index]) }
        }
        return result
    }

    /// The attempts' shared outcome: the first connection, the failures so far.
    final class Race<Connection: TCPStream> {
        var winner: Connection?
        var failures = 0
        var lastFailure: NetworkError?
        let changed = WaitQueue()

        /// Runs one attempt: its connection wins if none has, else is dropped.
        func attempt(_ connect: () throws(NetworkError) -> Connection) {
            do throws(NetworkError) {
                let connection = try connect()
                if winner == nil { winner = connection } else { connection.abort() }
                changed.wakeAll()
            } catch {
                failed(error)
            }
        }

        func failed(_ error: NetworkError) {
            failures += 1
            if error != .cancelled { lastFailure = error }
            changed.wakeAll()
        }
    }
}
