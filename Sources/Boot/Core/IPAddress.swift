/// An address of either family: what the transport layer (UDP, TCP) knows of
/// its peers, so that one transport serves IPv4 and IPv6 alike.
public enum IPAddress: Equatable {
    case v4(UInt32)
    case v6(IPv6Address)

    /// "10.0.2.15" or "2001:db8::1".
    public var text: String {
        switch self {
        case .v4(let address): return IPv4Text.text(address)
        case .v6(let address): return address.text
        }
    }

    /// Either family's text.
    public init?(_ text: String) {
        if let address = IPv4Text.address(text) {
            self = .v4(address)
        } else if let address = IPv6Address(text) {
            self = .v6(address)
        } else {
            return nil
        }
    }
}

/// IPv4 addresses as text: "10.0.2.15", and with a prefix, "10.0.2.15/24".
public enum IPv4Text {
    public static func address(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    public static func prefixed(_ text: String) -> (address: UInt32, prefixLength: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = address(String(parts[0])), let length = Int(parts[1]), (0...32).contains(length) else { return nil }
        return (address, length)
    }

    public static func text(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }
}

/// A host's IPv4 settings: its address and prefix, its router, and the
/// DHCP server that gave them, if one did.
public struct IPv4Configuration: Equatable {
    public let address: UInt32
    public let prefixLength: Int
    public let gateway: UInt32?
    public let dhcpServer: UInt32?

    public init(address: UInt32, prefixLength: Int, gateway: UInt32?, dhcpServer: UInt32?) {
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.dhcpServer = dhcpServer
    }
}
