/// An ICMPv6 message (RFC 4443): type, code and body, its checksum over
/// IPv6's pseudo-header checked on parse and computed on emit.
public struct ICMPv6Message: Equatable {
    public static let destinationUnreachable: UInt8 = 1, packetTooBig: UInt8 = 2, timeExceeded: UInt8 = 3, parameterProblem: UInt8 = 4
    public static let echoRequest: UInt8 = 128, echoReply: UInt8 = 129
    public static let routerSolicitation: UInt8 = 133, routerAdvertisement: UInt8 = 134
    public static let neighborSolicitation: UInt8 = 135, neighborAdvertisement: UInt8 = 136
    public static let mldQuery: UInt8 = 130, mldv2Report: UInt8 = 143
    /// Destination unreachable's code for a port nobody listens on.
    public static let portUnreachable: UInt8 = 4

    public let type: UInt8
    public let code: UInt8
    /// What follows the type, code and checksum.
    public let body: [UInt8]

    public init(type: UInt8, code: UInt8 = 0, body: [UInt8]) {
        self.type = type
        self.code = code
        self.body = body
    }

    public init?(parsing bytes: ArraySlice<UInt8>, source: IPv6Address, destination: IPv6Address) {
        guard bytes.count >= 4 else { return nil }
        let pseudo = IPv6Packet.pseudoHeaderSum(source: source, destination: destination, nextHeader: IPv6Packet.icmpv6, length: bytes.count)
        guard InternetChecksum.finish(InternetChecksum.sum(bytes, initial: pseudo)) == 0 else { return nil }
        type = bytes[bytes.startIndex]
        code = bytes[bytes.startIndex + 1]
        body = Array(bytes[(bytes.startIndex + 4)...])
    }

    public func emit(source: IPv6Address, destination: IPv6Address) -> [UInt8] {
        var bytes: [UInt8] = [type, code, 0, 0]
        bytes += body
        let pseudo = IPv6Packet.pseudoHeaderSum(source: source, destination: destination, nextHeader: IPv6Packet.icmpv6, length: bytes.count)
        let checksum = InternetChecksum.finish(InternetChecksum.sum(bytes[...], initial: pseudo))
        bytes[2] = UInt8(checksum >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: checksum)
        return bytes
    }

    /// An error about `packet` (unreachable, too big, parameter problem): the
    /// four bytes of `field`, then as much of the packet as keeps the whole
    /// within IPv6's minimum MTU of 1280 bytes (RFC 4443 2.4 (c)).
    public static func error(_ type: UInt8, code: UInt8, field: UInt32, quoting packet: ArraySlice<UInt8>) -> ICMPv6Message {
        var body: [UInt8] = []
        appendBE32(&body, field)
        body += packet.prefix(1280 - 40 - 8)
        return ICMPv6Message(type: type, code: code, body: body)
    }
}

/// The options of neighbour discovery messages (RFC 4861 4.6).
public struct NDOptions: Equatable {
    public struct Prefix: Equatable {
        public let prefix: IPv6Address
        public let length: Int
        public let onLink: Bool
        public let autonomous: Bool
        public let validLifetime: UInt32
        public let preferredLifetime: UInt32
    }

    public var sourceLinkLayer: MACAddress?
    public var targetLinkLayer: MACAddress?
    public var prefixes: [Prefix] = []
    public var mtu: UInt32?
    /// Recursive DNS servers (RFC 8106 5.1), each option's addresses with their lifetime.
    public var nameServers: [NameServerOption] = []

    public struct NameServerOption: Equatable {
        public let addresses: [IPv6Address]
        /// Seconds they may be used; 0: no longer; 0xFFFFFFFF: forever.
        public let lifetime: UInt32
    }

    public init(sourceLinkLayer: MACAddress? = nil, targetLinkLayer: MACAddress? = nil) {
        self.sourceLinkLayer = sourceLinkLayer
        self.targetLinkLayer = targetLinkLayer
    }

    /// nil if an option has length zero or runs past the end (RFC 4861 4.6: the message is dropped).
    public init?(parsing bytes: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard index + 2 <= bytes.endIndex else { return nil }
            let length = Int(bytes[index + 1]) * 8
            guard length > 0, index + length <= bytes.endIndex else { return nil }
            let option = bytes[index..<(index + length)]
            switch bytes[index] {
            case 1 where length == 8: sourceLinkLayer = MACAddress(bytes: option[(index + 2)..<(index + 8)])
            case 2 where length == 8: targetLinkLayer = MACAddress(bytes: option[(index + 2)..<(index + 8)])
            case 3 where length == 32:
                let flags = option[index + 3]
                prefixes.append(Prefix(prefix: IPv6Address(bytes: option[(index + 16)..<(index + 32)]), length: Int(option[index + 2]),
                                       onLink: flags & 0x80 != 0, autonomous: flags & 0x40 != 0,
                                       validLifetime: readBE32(option, 4), preferredLifetime: readBE32(option, 8)))
            case 5 where length == 8: mtu = readBE32(option, 4)
            case 25 where length >= 24 && (length - 8) % 16 == 0:
                let addresses = stride(from: 8, to: length, by: 16).map { IPv6Address(bytes: option[(index + $0)..<(index + $0 + 16)]) }
                nameServers.append(NameServerOption(addresses: addresses, lifetime: readBE32(option, 4)))
            default: break
            }
            index += length
        }
    }

    public func emit() -> [UInt8] {
        var bytes: [UInt8] = []
        if let mac = sourceLinkLayer {
            bytes += [1, 1]
            mac.append(to: &bytes)
        }
        if let mac = targetLinkLayer {
            bytes += [2, 1]
            mac.append(to: &bytes)
        }
        return bytes
    }
}

/// Neighbour solicitation and advertisement (RFC 4861 4.3, 4.4).
public struct NeighborMessage: Equatable {
    public let isAdvertisement: Bool
    public let target: IPv6Address
    /// Advertisements only: from a router, in answer to a solicitation, override the cache.
    public let router: Bool, solicited: Bool, override: Bool
    public let options: NDOptions

    public init(solicitationFor target: IPv6Address, options: NDOptions) {
        isAdvertisement = false
        self.target = target
        router = false; solicited = false; override = false
        self.options = options
    }

    public init(advertisementFor target: IPv6Address, solicited: Bool, override: Bool, options: NDOptions) {
        isAdvertisement = true
        self.target = target
        router = false
        self.solicited = solicited
        self.override = override
        self.options = options
    }

    /// RFC 4861 7.1's checks: hop limit 255, code 0, at least 24 bytes, a unicast target, valid options.
    public init?(parsing message: ICMPv6Message, hopLimit: UInt8) {
        guard message.type == ICMPv6Message.neighborSolicitation || message.type == ICMPv6Message.neighborAdvertisement,
              hopLimit == 255, message.code == 0, message.body.count >= 20,
              let options = NDOptions(parsing: message.body[20...]) else { return nil }
        isAdvertisement = message.type == ICMPv6Message.neighborAdvertisement
        target = IPv6Address(bytes: message.body[4..<20])
        guard !target.isMulticast else { return nil }
        let flags = message.body[0]
        router = isAdvertisement && flags & 0x80 != 0
        solicited = isAdvertisement && flags & 0x40 != 0
        override = isAdvertisement && flags & 0x20 != 0
        self.options = options
    }

    public var message: ICMPv6Message {
        let flags: UInt8 = (router ? 0x80 : 0) | (solicited ? 0x40 : 0) | (override ? 0x20 : 0)
        return ICMPv6Message(type: isAdvertisement ? ICMPv6Message.neighborAdvertisement : ICMPv6Message.neighborSolicitation,
                             body: [flags, 0, 0, 0] + target.bytes + options.emit())
    }
}

/// A router advertisement (RFC 4861 4.2), checked as 6.1.2 says.
public struct RouterAdvertisement: Equatable {
    public let hopLimit: UInt8
    /// Seconds this router serves as a default router; 0: not a default router.
    public let routerLifetime: UInt16
    public let options: NDOptions

    public init?(parsing message: ICMPv6Message, source: IPv6Address, hopLimit: UInt8) {
        guard message.type == ICMPv6Message.routerAdvertisement, hopLimit == 255, message.code == 0, source.isLinkLocal,
              message.body.count >= 12, let options = NDOptions(parsing: message.body[12...]) else { return nil }
        self.hopLimit = message.body[0]
        routerLifetime = readBE16(message.body[...], 2)
        self.options = options
    }
}

/// Messages the host sends that need no parsing here.
public enum NDEmit {
    /// A router solicitation, with our link-layer address unless sent from the unspecified address.
    public static func routerSolicitation(mac: MACAddress?) -> ICMPv6Message {
        ICMPv6Message(type: ICMPv6Message.routerSolicitation, body: [0, 0, 0, 0] + NDOptions(sourceLinkLayer: mac).emit())
    }

    /// An MLDv2 report (RFC 3810 5.2): we exclude no sources of these groups, i.e. we listen to them.
    /// Joining, the records say CHANGE_TO_EXCLUDE_MODE (4); answering a query, MODE_IS_EXCLUDE (2).
    public static func listenerReport(joining groups: [IPv6Address], answering: Bool = false) -> ICMPv6Message {
        var body: [UInt8] = [0, 0]
        appendBE16(&body, UInt16(groups.count))
        for group in groups { body += [answering ? 2 : 4, 0, 0, 0] + group.bytes }   // no auxiliary data, no sources
        return ICMPv6Message(type: ICMPv6Message.mldv2Report, body: body)
    }

    /// An MLD packet: hop limit 1, a hop-by-hop header with the router alert option (RFC 3810 5, RFC 2711).
    public static func mldPacket(source: IPv6Address, report: ICMPv6Message) -> [UInt8] {
        let icmp = report.emit(source: source, destination: .allMLDv2Routers)
        let hopByHop: [UInt8] = [IPv6Packet.icmpv6, 0, 5, 2, 0, 0, 1, 0]   // router alert (MLD), then PadN
        return IPv6Packet.emit(source: source, destination: .allMLDv2Routers, nextHeader: IPv6Packet.hopByHop,
                               payload: hopByHop + icmp, hopLimit: 1)
    }
}
