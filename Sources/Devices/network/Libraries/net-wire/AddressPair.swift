/// The two ends of a packet, for the transport checksum's pseudo-header.
public enum AddressPair {
    case v4(source: UInt32, destination: UInt32)
    case v6(source: IPv6Address, destination: IPv6Address)

    public init(source: IPAddress, destination: IPAddress) {
        switch (source, destination) {
        case (.v4(let source), .v4(let destination)): self = .v4(source: source, destination: destination)
        case (.v6(let source), .v6(let destination)): self = .v6(source: source, destination: destination)
        default: preconditionFailure("an IPv4 and an IPv6 address in one packet")
        }
    }

    /// The pseudo-header's sum (RFC 9293 3.1, RFC 8200 8.1) for `length` bytes of `protocolNumber`.
    public func pseudoHeaderSum(protocolNumber: UInt8, length: Int) -> UInt32 {
        switch self {
        case .v4(let source, let destination):
            return InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocolNumber: protocolNumber, length: length)
        case .v6(let source, let destination):
            return IPv6Packet.pseudoHeaderSum(source: source, destination: destination, nextHeader: protocolNumber, length: length)
        }
    }
}
