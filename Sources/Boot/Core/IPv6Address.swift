/// A 128-bit IPv6 address (RFC 4291), its text (RFC 4291 2.2 to read,
/// RFC 5952 to write), and the addresses derived from others: link-local
/// from an Ethernet address (modified EUI-64), solicited-node multicast,
/// and multicast's Ethernet address (RFC 2464 7).
public struct IPv6Address: Equatable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 16)
        high = UInt64(readBE32(bytes, 0)) << 32 | UInt64(readBE32(bytes, 4))
        low = UInt64(readBE32(bytes, 8)) << 32 | UInt64(readBE32(bytes, 12))
    }

    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for word in [UInt32(high >> 32), UInt32(truncatingIfNeeded: high), UInt32(low >> 32), UInt32(truncatingIfNeeded: low)] {
            appendBE32(&bytes, word)
        }
        return bytes
    }

    public static let unspecified = IPv6Address(high: 0, low: 0)
    public static let allNodes = IPv6Address(high: 0xFF02 << 48, low: 1)
    public static let allRouters = IPv6Address(high: 0xFF02 << 48, low: 2)
    /// Where MLDv2 reports go (RFC 3810 5.2.14).
    public static let allMLDv2Routers = IPv6Address(high: 0xFF02 << 48, low: 0x16)

    public var isMulticast: Bool { high >> 56 == 0xFF }
    public var isLinkLocal: Bool { high >> 54 == 0xFE80 >> 6 }
    public var isUnspecified: Bool { self == .unspecified }

    /// fe80::/64 with the interface identifier from `mac` (RFC 4291 appendix A, RFC 4862 5.3).
    public static func linkLocal(mac: MACAddress) -> IPv6Address {
        IPv6Address(high: 0xFE80 << 48, low: interfaceIdentifier(mac: mac))
    }

    /// The modified EUI-64 identifier: the MAC with ff:fe in the middle and the universal/local bit flipped.
    public static func interfaceIdentifier(mac: MACAddress) -> UInt64 {
        let flipped = mac.value ^ 0x0200_0000_0000
        return (flipped >> 24) << 40 | 0xFF_FE00_0000 | flipped & 0xFF_FFFF
    }

    /// A /64 prefix's address with `identifier` as its low half.
    public func withInterfaceIdentifier(_ identifier: UInt64) -> IPv6Address { IPv6Address(high: high, low: identifier) }

    /// ff02::1:ffXX:XXXX, where neighbour solicitations for this address go (RFC 4291 2.7.1).
    public var solicitedNode: IPv6Address { IPv6Address(high: 0xFF02 << 48, low: 0x1_FF00_0000 | low & 0xFF_FFFF) }

    /// 33:33 and the low 32 bits of a multicast address (RFC 2464 7).
    public var multicastMAC: MACAddress { MACAddress(value: 0x3333_0000_0000 | low & 0xFFFF_FFFF) }

    /// Whether the first `length` bits equal `prefix`'s.
    public func matches(_ prefix: IPv6Address, length: Int) -> Bool {
        if length <= 0 { return true }
        if length >= 128 { return self == prefix }
        if length <= 64 {
            let mask: UInt64 = length == 64 ? ~0 : ~(~UInt64(0) >> UInt64(length))
            return high & mask == prefix.high & mask
        }
        let mask: UInt64 = ~(~UInt64(0) >> UInt64(length - 64))
        return high == prefix.high && low & mask == prefix.low & mask
    }

    /// How many leading bits two addresses share (RFC 6724's CommonPrefixLen).
    public func commonPrefixLength(with other: IPv6Address) -> Int {
        let high = self.high ^ other.high
        return high != 0 ? high.leadingZeroBitCount : 64 + (low ^ other.low).leadingZeroBitCount
    }

    /// The eight 16-bit groups.
    var groups: [UInt16] {
        [high >> 48, high >> 32, high >> 16, high, low >> 48, low >> 32, low >> 16, low].map { UInt16(truncatingIfNeeded: $0) }
    }

    /// Text such as "2001:db8::1" or "fe80::5054:ff:fe12:3456"; nil if it does not parse
    /// (an embedded IPv4 tail is not accepted: RFC 5952 writes none for ordinary addresses).
    public init?(_ text: String) {
        let halves = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard halves.count >= 3 || (halves.count == 8) else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        var index = 0
        var parts = halves
        // "::" at either end yields two empty parts; fold them to one.
        if parts.first == "" { guard parts.count > 1, parts[1] == "" else { return nil }; parts.removeFirst() }
        if parts.last == "" { guard parts.count > 1, parts[parts.count - 2] == "" else { return nil }; parts.removeLast() }
        while index < parts.count {
            let part = parts[index]
            index += 1
            if part.isEmpty {
                guard !sawGap else { return nil }
                sawGap = true
                continue
            }
            guard part.utf8.count <= 4, let group = UInt16(part, radix: 16), part.utf8.allSatisfy({ IPv6Address.isHexDigit($0) }) else { return nil }
            if sawGap { tail.append(group) } else { head.append(group) }
        }
        let count = head.count + tail.count
        guard sawGap ? count <= 7 : count == 8 else { return nil }
        let groups = head + [UInt16](repeating: 0, count: 8 - count) + tail
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 70) || (byte >= 97 && byte <= 102)
    }

    /// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as "::" (the first if tied).
    public var text: String {
        let groups = self.groups
        var bestStart = -1, bestLength = 1
        var start = 0
        while start < 8 {
            var end = start
            while end < 8, groups[end] == 0 { end += 1 }
            if end - start > bestLength {
                bestStart = start
                bestLength = end - start
            }
            start = end == start ? start + 1 : end
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(groups[...]) }
        return hex(groups[..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }

    /// "ADDRESS/LENGTH", such as "2001:db8::5/64".
    public static func prefixed(_ text: String) -> (address: IPv6Address, prefixLength: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])), parts[1].utf8.count <= 3,
              let length = Int(parts[1]), (0...128).contains(length) else { return nil }
        return (address, length)
    }
}
