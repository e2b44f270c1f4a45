/// The stub resolver's pure part (RFC 1034 5.3.1), as ocaml-dns's
/// dns-client is: the query a question makes, the checks an answer must
/// pass before it is believed (RFC 5452 9.1: from the server asked, with
/// the query's ID and question; the port it came to is the socket's), what
/// a believed answer says, a cache that keeps it for its TTL (RFC 2308 for
/// the negative ones), and the order to try a name's addresses in (RFC
/// 6724). Bytes and times in, decisions out; DNSStubResolver does the I/O.
public struct DNSStubQuery: Equatable {
    public let id: UInt16
    public let question: DNSQuestion
    public let server: NameServer
    /// With an EDNS(0) record offering 1232-byte answers (RFC 6891; the DNS
    /// flag day's size, which no path fragments); without, after a server
    /// answered FORMERR to one.
    public let edns: Bool

    public init(id: UInt16, name: DNSName, type: UInt16, server: NameServer, edns: Bool = true) {
        self.id = id
        question = DNSQuestion(name: name, type: type)
        self.server = server
        self.edns = edns
    }

    /// EDNS(0)'s offer: RFC 6891 6.2.5's advice, and the 2020 DNS flag day's.
    public static let ednsPayloadSize: UInt16 = 1232

    /// The query's bytes: recursion desired, one question.
    public var bytes: [UInt8] {
        var message = DNSMessage(id: id)
        message.recursionDesired = true
        message.questions = [question]
        if edns { message.edns = DNSMessage.EDNS(payloadSize: DNSStubQuery.ednsPayloadSize) }
        return message.encode()
    }

    /// A datagram that came to the query's socket from `source`:`port`.
    /// Anything but the asked server's answer to this very query is
    /// `.ignored`, and the wait for the real one goes on.
    public func check(_ datagram: [UInt8], from source: IPAddress, port: UInt16) -> DNSStubAnswer {
        guard source == server.address, port == server.port else { return .ignored }
        return check(datagram)
    }

    /// An answer that came over TCP from the server asked.
    public func check(_ message: [UInt8]) -> DNSStubAnswer {
        guard case .success(let answer) = DNSMessage.parse(message) else { return .ignored }
        return interpret(answer)
    }

    func interpret(_ answer: DNSMessage) -> DNSStubAnswer {
        guard answer.isResponse, answer.id == id, answer.opcode == DNSMessage.Opcode.query, answer.questions.count == 1,
              let asked = answer.questions.first, asked.name == question.name, asked.type == question.type,
              asked.recordClass == question.recordClass else { return .ignored }
        if answer.truncated { return .truncated }
        switch answer.rcode {
        case DNSMessage.Rcode.noError, DNSMessage.Rcode.nameError: break
        case DNSMessage.Rcode.formatError where edns: return .noEDNS
        default: return .serverFailed(rcode: answer.rcode)
        }
        // The CNAME chain from the name asked (RFC 1034 3.6.2), as far as the answer goes; a loop ends it.
        var name = question.name, ttl = UInt32.max, hops = 0
        while hops < DNSStubQuery.chainLimit,
              let alias = answer.answers.first(where: { $0.type == DNSType.cname && $0.recordClass == DNSClass.internet && $0.name == name }),
              case .name(let target) = alias.data {
            name = target
            ttl = min(ttl, alias.ttl)
            hops += 1
        }
        let records = answer.answers.filter { $0.name == name && $0.type == question.type && $0.recordClass == DNSClass.internet }
        let addresses = records.compactMap { record -> IPAddress? in
            switch record.data {
            case .ipv4(let bytes): return .v4(readBE32(bytes[...], 0))
            case .ipv6(let bytes): return .v6(IPv6Address(bytes: bytes[...]))
            default: return nil
            }
        }
        if answer.rcode == DNSMessage.Rcode.noError, !addresses.isEmpty {
            return .addresses(addresses, ttl: records.reduce(ttl) { min($0, $1.ttl) })
        }
        // RFC 2308 5: a negative answer is kept for the SOA's TTL, at most its MINIMUM; without a SOA, not kept.
        let negativeTTL = answer.authorities.lazy.compactMap { record -> UInt32? in
            guard record.type == DNSType.soa, case .soa(_, _, _, _, _, _, let minimum) = record.data else { return nil }
            return min(record.ttl, minimum, ttl)
        }.first
        if answer.rcode == DNSMessage.Rcode.nameError { return .none(nameExists: false, ttl: negativeTTL) }
        // A chain that ends where the answer has nothing more, and no SOA to say the end has no data: the server
        // did not follow it (or could not), so the stub asks for the end itself.
        if name != question.name, negativeTTL == nil, hops < DNSStubQuery.chainLimit { return .alias(name, ttl: ttl) }
        return .none(nameExists: true, ttl: negativeTTL)
    }

    /// CNAMEs followed at most, in one answer and across the questions a lookup asks.
    public static let chainLimit = 8
}

/// What an answer to a stub's query says.
public enum DNSStubAnswer: Equatable {
    /// Not the answer to this query (another server's, another query's, a
    /// spoof, or malformed): believe nothing, wait on.
    case ignored
    /// Cut short (TC): ask again over TCP (RFC 7766).
    case truncated
    /// The server does not speak EDNS (FORMERR to our OPT record): ask it again without.
    case noEDNS
    /// This server could not answer (SERVFAIL, REFUSED, ...): ask the next one.
    case serverFailed(rcode: UInt16)
    /// The name's addresses of the type asked, at the end of its CNAME chain,
    /// kept for the least TTL along it.
    case addresses([IPAddress], ttl: UInt32)
    /// The name is an alias of `target`, for whose addresses the answer had nothing: ask for them.
    case alias(DNSName, ttl: UInt32)
    /// No such name (NXDOMAIN), or no records of the type (NODATA); kept for `ttl` seconds (nil: not kept).
    case none(nameExists: Bool, ttl: UInt32?)
}

/// Answers kept for their TTL: a name's addresses of one type, or that it
/// has none (RFC 2308). Time is in nanoseconds, from any start.
public struct DNSCache {
    public enum Entry: Equatable {
        case addresses([IPAddress])
        case none(nameExists: Bool)
    }

    struct Kept {
        let name: DNSName
        let type: UInt16
        let entry: Entry
        let expires: UInt64
    }

    var kept: [Kept] = []
    /// Entries kept at most; when full, the one that expires first goes.
    public static let capacity = 64
    /// No answer is kept longer than a day (RFC 8767's cap on TTLs is a week; a unikernel restarts less often).
    public static let longestSeconds: UInt32 = 86_400

    public init() {}

    public var count: Int { kept.count }

    /// What is kept for `name` and `type` at `now`, if it has not expired.
    public func lookup(_ name: DNSName, type: UInt16, now: UInt64) -> Entry? {
        kept.first { $0.name == name && $0.type == type && $0.expires > now }?.entry
    }

    /// Keeps `entry` for `ttl` seconds from `now` (a TTL of 0 keeps nothing).
    public mutating func insert(_ entry: Entry, for name: DNSName, type: UInt16, ttl: UInt32, now: UInt64) {
        kept.removeAll { ($0.name == name && $0.type == type) || $0.expires <= now }
        guard ttl > 0 else { return }
        if kept.count >= DNSCache.capacity, let soonest = kept.indices.min(by: { kept[$0].expires < kept[$1].expires }) {
            kept.remove(at: soonest)
        }
        kept.append(Kept(name: name, type: type, entry: entry, expires: now &+ UInt64(min(ttl, DNSCache.longestSeconds)) * 1_000_000_000))
    }
}

/// RFC 6724's default address selection: the order in which to try a
/// name's addresses (section 6), given the host's own (sources, of which
/// section 5 picks the one each destination would be reached from). IPv4
/// addresses take part as IPv4-mapped IPv6 ones, as the RFC says. With no
/// sources known (the host's sockets), the rules that compare with one are
/// passed over.
public enum AddressOrder {
    /// `destinations`, best first; equals keep their order (rule 10).
    public static func sorted(_ destinations: [IPAddress], sources: [IPAddress]) -> [IPAddress] {
        let candidates = sources.map(Mapped.init)
        let ranked = destinations.enumerated().map { index, address -> (Int, Mapped, Mapped?) in
            let destination = Mapped(address)
            return (index, destination, source(for: destination, among: candidates))
        }
        let knowsSources = !candidates.isEmpty
        return ranked.sorted { a, b in
            let order = compare(a.1, a.2, b.1, b.2, knowsSources: knowsSources)
            return order != 0 ? order < 0 : a.0 < b.0
        }.map { destinations[$0.0] }
    }

    /// Section 6's rules 1, 2, 5, 6, 8 and 9 (3, 4 and 7 concern deprecated, home and
    /// encapsulated addresses, of which the stack has none): -1 if A goes first, 1 if B, 0 if neither.
    static func compare(_ a: Mapped, _ sourceA: Mapped?, _ b: Mapped, _ sourceB: Mapped?, knowsSources: Bool) -> Int {
        if knowsSources {
            // Rule 1: avoid unusable destinations (no source to reach them from).
            if (sourceA == nil) != (sourceB == nil) { return sourceA == nil ? 1 : -1 }
            if let sourceA, let sourceB {
                // Rule 2: prefer matching scope.
                let scopeMatchA = a.scope == sourceA.scope, scopeMatchB = b.scope == sourceB.scope
                if scopeMatchA != scopeMatchB { return scopeMatchA ? -1 : 1 }
                // Rule 5: prefer matching label.
                let labelMatchA = a.policy.label == sourceA.policy.label, labelMatchB = b.policy.label == sourceB.policy.label
                if labelMatchA != labelMatchB { return labelMatchA ? -1 : 1 }
            }
        }
        // Rule 6: prefer higher precedence.
        if a.policy.precedence != b.policy.precedence { return a.policy.precedence > b.policy.precedence ? -1 : 1 }
        // Rule 8: prefer smaller scope.
        if a.scope != b.scope { return a.scope < b.scope ? -1 : 1 }
        // Rule 9: prefer the longest prefix in common with the source (both of one family).
        if let sourceA, let sourceB, a.isIPv4 == b.isIPv4 {
            let commonA = a.address.commonPrefixLength(with: sourceA.address), commonB = b.address.commonPrefixLength(with: sourceB.address)
            if commonA != commonB { return commonA > commonB ? -1 : 1 }
        }
        return 0
    }

    /// Section 5, for our few addresses: one of the destination's family, of
    /// its scope if there is one (rule 2), else the smallest scope above it, else
    /// the largest below; then a matching label (rule 6); then the longest common prefix (rule 8).
    static func source(for destination: Mapped, among sources: [Mapped]) -> Mapped? {
        sources.filter { $0.isIPv4 == destination.isIPv4 }.min { a, b in
            func fit(_ source: Mapped) -> Int {
                source.scope >= destination.scope ? source.scope - destination.scope : 100 + destination.scope - source.scope
            }
            if fit(a) != fit(b) { return fit(a) < fit(b) }
            let labelA = a.policy.label == destination.policy.label, labelB = b.policy.label == destination.policy.label
            if labelA != labelB { return labelA }
            return a.address.commonPrefixLength(with: destination.address) > b.address.commonPrefixLength(with: destination.address)
        }
    }

    /// An address as RFC 6724 sees it: IPv6, IPv4 mapped into it.
    struct Mapped {
        let address: IPv6Address
        let isIPv4: Bool

        init(_ address: IPAddress) {
            switch address {
            case .v4(let value):
                self.address = IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(value))
                isIPv4 = true
            case .v6(let value):
                self.address = value
                isIPv4 = false
            }
        }

        /// Section 3.1 and 3.2: multicast carries its scope; link-local and loopback are 2;
        /// IPv4's 127/8 and 169.254/16 are link-local; site-local (fec0::/10) 5; the rest global, 14.
        var scope: Int {
            if address.isMulticast { return Int(address.high >> 48 & 0xF) }
            if isIPv4 {
                let value = UInt32(truncatingIfNeeded: address.low)
                return value >> 24 == 127 || value >> 16 == 0xA9FE ? 2 : 14
            }
            if address.isLinkLocal || address == IPv6Address(high: 0, low: 1) { return 2 }
            if address.high >> 54 == 0xFEC0 >> 6 { return 5 }
            return 14
        }

        /// Section 2.1's default policy table: the longest matching prefix's precedence and label.
        var policy: (precedence: Int, label: Int) {
            for entry in AddressOrder.policyTable where address.matches(entry.prefix, length: entry.length) {
                return (entry.precedence, entry.label)
            }
            return (40, 1)
        }
    }

    /// RFC 6724 2.1's table, longest prefixes first (::/0, precedence 40 and label 1, is the fall-through).
    static let policyTable: [(prefix: IPv6Address, length: Int, precedence: Int, label: Int)] = [
        (IPv6Address(high: 0, low: 1), 128, 50, 0),
        (IPv6Address(high: 0, low: 0xFFFF_0000_0000), 96, 35, 4),
        (IPv6Address(high: 0, low: 0), 96, 1, 3),
        (IPv6Address(high: 0x2001_0000 << 32, low: 0), 32, 5, 5),
        (IPv6Address(high: 0x2002 << 48, low: 0), 16, 30, 2),
        (IPv6Address(high: 0x3FFE << 48, low: 0), 16, 1, 12),
        (IPv6Address(high: 0xFEC0 << 48, low: 0), 10, 1, 11),
        (IPv6Address(high: 0xFC00 << 48, low: 0), 7, 3, 13),
    ]
}
