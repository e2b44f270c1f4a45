/// An IPv6 packet (RFC 8200) with its extension headers walked: hop-by-hop
/// and destination options are skipped (their options' action bits are
/// honoured), a fragment header is reported, routing headers with segments
/// left are refused, and anything unknown is reported with its offset for
/// ICMPv6's parameter problem.
public struct IPv6Packet: Equatable {
    public static let hopByHop: UInt8 = 0, tcp: UInt8 = 6, udp: UInt8 = 17, routing: UInt8 = 43, fragmentHeader: UInt8 = 44
    public static let icmpv6: UInt8 = 58, noNextHeader: UInt8 = 59, destinationOptions: UInt8 = 60

    public let source: IPv6Address
    public let destination: IPv6Address
    public let hopLimit: UInt8
    /// The header after the extension headers: TCP, UDP, ICMPv6 ...
    public let nextHeader: UInt8
    /// What follows the extension headers.
    public let payload: ArraySlice<UInt8>
    /// The fragment header, when there is one: the offset in bytes, more fragments, and the identification.
    public let fragment: (offset: Int, more: Bool, identification: UInt32)?
    /// Why the packet cannot be processed, for a parameter problem (RFC 4443 3.4): code and pointer.
    public let problem: (code: UInt8, pointer: UInt32)?
    /// The whole packet as received, for quoting in ICMPv6 errors.
    public let bytes: ArraySlice<UInt8>
    /// Where the field naming `nextHeader` sits, for a parameter problem's pointer if nobody takes it.
    public let nextHeaderOffset: Int

    public static func == (a: IPv6Packet, b: IPv6Packet) -> Bool { a.bytes.elementsEqual(b.bytes) && a.payload.elementsEqual(b.payload) }

    /// nil unless the version is 6 and the lengths hold.
    public init?(parsing bytes: ArraySlice<UInt8>) {
        guard bytes.count >= 40, bytes[bytes.startIndex] >> 4 == 6 else { return nil }
        let payloadLength = Int(readBE16(bytes, 4))
        guard 40 + payloadLength <= bytes.count else { return nil }
        let base = bytes.startIndex
        self.bytes = bytes[base..<(base + 40 + payloadLength)]
        hopLimit = bytes[base + 7]
        source = IPv6Address(bytes: bytes[(base + 8)..<(base + 24)])
        destination = IPv6Address(bytes: bytes[(base + 24)..<(base + 40)])
        var next = bytes[base + 6]
        var offset = 40                          // from the packet's start
        var nextHeaderField = 6                  // where the current "next header" value sits, for the pointer
        var fragment: (offset: Int, more: Bool, identification: UInt32)?
        var problem: (code: UInt8, pointer: UInt32)?
        let end = 40 + payloadLength
        walk: while true {
            switch next {
            case IPv6Packet.hopByHop, IPv6Packet.destinationOptions, IPv6Packet.routing:
                // Hop-by-hop only first (RFC 8200 4.1).
                if next == IPv6Packet.hopByHop && offset != 40 { problem = (1, UInt32(nextHeaderField)); break walk }
                guard offset + 8 <= end else { return nil }
                let length = (Int(bytes[base + offset + 1]) + 1) * 8
                guard offset + length <= end else { return nil }
                if next == IPv6Packet.routing {
                    // A routing header with segments left would make us a router: refused (RFC 8200 4.4).
                    if bytes[base + offset + 3] != 0 { problem = (0, UInt32(offset + 2)); break walk }
                } else if let failure = IPv6Packet.checkOptions(bytes, base: base, from: offset + 2, to: offset + length) {
                    problem = failure
                    break walk
                }
                nextHeaderField = offset
                next = bytes[base + offset]
                offset += length
            case IPv6Packet.fragmentHeader:
                guard offset + 8 <= end, fragment == nil else { return nil }
                let field = readBE16(bytes, offset + 2)
                fragment = (Int(field & 0xFFF8), field & 1 != 0, readBE32(bytes, offset + 4))
                nextHeaderField = offset
                next = bytes[base + offset]
                offset += 8
                break walk   // what follows is a piece of the fragmentable part, walked once reassembled
            default:
                break walk
            }
        }
        nextHeader = next
        nextHeaderOffset = nextHeaderField
        self.fragment = fragment
        self.problem = problem
        payload = bytes[(base + offset)..<(base + end)]
    }

    /// Options in a hop-by-hop or destination options header: Pad1 and PadN pass;
    /// an unknown one does what its two high bits say (RFC 8200 4.2). Returns a
    /// parameter problem (code 2, pointing at the option) when it must be answered.
    static func checkOptions(_ bytes: ArraySlice<UInt8>, base: Int, from start: Int, to end: Int) -> (code: UInt8, pointer: UInt32)? {
        var index = start
        while index < end {
            let type = bytes[base + index]
            if type == 0 { index += 1; continue }
            guard index + 1 < end else { return (0, UInt32(index)) }
            let length = Int(bytes[base + index + 1])
            if type != 1 {
                switch type >> 6 {
                case 0: break                                  // skip it
                case 1: return (255, UInt32(index))            // discard silently
                default: return (2, UInt32(index))             // discard and answer
                }
            }
            index += 2 + length
        }
        return index == end ? nil : (0, UInt32(end))
    }

    /// Header and payload: no extension headers, a fixed hop limit unless told.
    public static func emit(source: IPv6Address, destination: IPv6Address, nextHeader: UInt8, payload: [UInt8],
                            hopLimit: UInt8 = 64) -> [UInt8] {
        var bytes = packet(headroom: headerLength, headerLength: 0, payload: payload[...]) { _ in }
        writeHeader(into: &bytes, at: 0, source: source, destination: destination, nextHeader: nextHeader, hopLimit: hopLimit)
        return bytes
    }

    public static let headerLength = 40

    /// Writes the header over the 40 bytes at `offset`, left for it in front
    /// of the payload, which runs to the end of `bytes`.
    public static func writeHeader(into bytes: inout [UInt8], at offset: Int, source: IPv6Address, destination: IPv6Address,
                                   nextHeader: UInt8, hopLimit: UInt8 = 64) {
        writeBE32(&bytes, offset, 0x6000_0000)     // version 6, no traffic class or flow label
        writeBE16(&bytes, offset + 4, UInt16(truncatingIfNeeded: bytes.count - offset - headerLength))
        bytes[offset + 6] = nextHeader
        bytes[offset + 7] = hopLimit
        for (index, word) in [source.high, source.low, destination.high, destination.low].enumerated() {
            writeBE32(&bytes, offset + 8 + 8 * index, UInt32(word >> 32))
            writeBE32(&bytes, offset + 12 + 8 * index, UInt32(truncatingIfNeeded: word))
        }
    }

    /// The sum of IPv6's pseudo-header (RFC 8200 8.1) for an upper-layer packet of `length` bytes.
    public static func pseudoHeaderSum(source: IPv6Address, destination: IPv6Address, nextHeader: UInt8, length: Int) -> UInt32 {
        var sum: UInt32 = UInt32(nextHeader) + UInt32(truncatingIfNeeded: length >> 16) + UInt32(truncatingIfNeeded: length & 0xFFFF)
        for group in source.groups + destination.groups { sum &+= UInt32(group) }
        return sum
    }
}
