/// Packet views in the manner of smoltcp: each parses bytes into a value,
/// checking every length and checksum (nil for anything malformed), and
/// emits bytes back. No parse traps on any input.

public struct EthernetFrame: Equatable {
    public static let ipv4: UInt16 = 0x0800, arp: UInt16 = 0x0806, ipv6: UInt16 = 0x86DD
    public let destination: MACAddress
    public let source: MACAddress
    public let etherType: UInt16
    public let payload: ArraySlice<UInt8>

    public init?(parsing bytes: [UInt8]) {
        guard bytes.count >= 14 else { return nil }
        destination = MACAddress(bytes: bytes[0..<6])
        source = MACAddress(bytes: bytes[6..<12])
        etherType = readBE16(bytes[...], 12)
        payload = bytes[14...]
    }

    public static func emit(destination: MACAddress, source: MACAddress, etherType: UInt16, payload: [UInt8]) -> [UInt8] {
        var bytes = packet(headroom: headerLength, headerLength: 0, payload: payload[...]) { _ in }
        writeHeader(into: &bytes, destination: destination, source: source, etherType: etherType)
        return bytes
    }

    public static let headerLength = 14
    /// Ethernet's minimum: 60 bytes before the FCS.
    static let minimumLength = 60

    /// Writes the header over the first 14 bytes of `bytes` (left for it by
    /// the layers above) and pads the frame to Ethernet's minimum.
    public static func writeHeader(into bytes: inout [UInt8], destination: MACAddress, source: MACAddress, etherType: UInt16) {
        for index in 0..<6 {
            bytes[index] = destination[index]
            bytes[6 + index] = source[index]
        }
        writeBE16(&bytes, 12, etherType)
        if bytes.count < minimumLength { bytes.append(contentsOf: repeatElement(0, count: minimumLength - bytes.count)) }
    }
}

public struct ARPPacket: Equatable {
    public static let request: UInt16 = 1, reply: UInt16 = 2

    public let operation: UInt16
    public let senderMAC: MACAddress
    public let senderIP: UInt32
    public let targetMAC: MACAddress
    public let targetIP: UInt32

    public init(operation: UInt16, senderMAC: MACAddress, senderIP: UInt32, targetMAC: MACAddress, targetIP: UInt32) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    /// Ethernet/IPv4 ARP only (hardware type 1, protocol 0x0800, lengths 6 and 4).
    public init?(parsing payload: ArraySlice<UInt8>) {
        guard payload.count >= 28, readBE16(payload, 0) == 1, readBE16(payload, 2) == 0x0800,
              payload[payload.startIndex + 4] == 6, payload[payload.startIndex + 5] == 4 else { return nil }
        operation = readBE16(payload, 6)
        let base = payload.startIndex
        senderMAC = MACAddress(bytes: payload[(base + 8)..<(base + 14)])
        senderIP = readBE32(payload, 14)
        targetMAC = MACAddress(bytes: payload[(base + 18)..<(base + 24)])
        targetIP = readBE32(payload, 24)
    }

    public func emit() -> [UInt8] {
        var bytes: [UInt8] = []
        appendBE16(&bytes, 1)
        appendBE16(&bytes, 0x0800)
        bytes += [6, 4]
        appendBE16(&bytes, operation)
        senderMAC.append(to: &bytes)
        appendBE32(&bytes, senderIP)
        targetMAC.append(to: &bytes)
        appendBE32(&bytes, targetIP)
        return bytes
    }
}

public struct IPv4Packet: Equatable {
    public static let icmp: UInt8 = 1, tcp: UInt8 = 6, udp: UInt8 = 17

    public let source: UInt32
    public let destination: UInt32
    public let protocolNumber: UInt8
    public let timeToLive: UInt8
    public let identification: UInt16
    /// More fragments follow this one.
    public let moreFragments: Bool
    /// Where this fragment's payload sits in the whole datagram's, in bytes.
    public let fragmentOffset: Int
    public let payload: ArraySlice<UInt8>

    /// More fragments, or an offset: a piece of a larger datagram.
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    /// Checks the version, header length, total length and header checksum.
    public init?(parsing bytes: ArraySlice<UInt8>) {
        guard bytes.count >= 20, bytes[bytes.startIndex] >> 4 == 4 else { return nil }
        let headerLength = Int(bytes[bytes.startIndex] & 0x0F) * 4
        let totalLength = Int(readBE16(bytes, 2))
        guard headerLength >= 20, totalLength >= headerLength, totalLength <= bytes.count else { return nil }
        let header = bytes[bytes.startIndex..<(bytes.startIndex + headerLength)]
        guard InternetChecksum.compute(header) == 0 else { return nil }
        identification = readBE16(bytes, 4)
        let fragment = readBE16(bytes, 6)
        moreFragments = fragment & 0x2000 != 0
        fragmentOffset = Int(fragment & 0x1FFF) * 8
        timeToLive = bytes[bytes.startIndex + 8]
        protocolNumber = bytes[bytes.startIndex + 9]
        source = readBE32(bytes, 12)
        destination = readBE32(bytes, 16)
        payload = bytes[(bytes.startIndex + headerLength)..<(bytes.startIndex + totalLength)]
    }

    /// A whole datagram put together from fragments.
    init(reassembled first: IPv4Packet, payload: [UInt8]) {
        source = first.source
        destination = first.destination
        protocolNumber = first.protocolNumber
        timeToLive = first.timeToLive
        identification = first.identification
        moreFragments = false
        fragmentOffset = 0
        self.payload = payload[...]
    }

    public static func emit(source: UInt32, destination: UInt32, protocolNumber: UInt8, payload: [UInt8],
                            identification: UInt16, timeToLive: UInt8 = 64) -> [UInt8] {
        var bytes = packet(headroom: headerLength, headerLength: 0, payload: payload[...]) { _ in }
        writeHeader(into: &bytes, at: 0, source: source, destination: destination, protocolNumber: protocolNumber,
                    identification: identification, timeToLive: timeToLive)
        return bytes
    }

    public static let headerLength = 20

    /// Writes the header (no options, don't fragment) over the 20 bytes at
    /// `offset`, left for it in front of the payload, which runs to the end of `bytes`.
    public static func writeHeader(into bytes: inout [UInt8], at offset: Int, source: UInt32, destination: UInt32, protocolNumber: UInt8,
                                   identification: UInt16, timeToLive: UInt8 = 64) {
        bytes[offset] = 0x45
        bytes[offset + 1] = 0
        writeBE16(&bytes, offset + 2, UInt16(truncatingIfNeeded: bytes.count - offset))
        writeBE16(&bytes, offset + 4, identification)
        writeBE16(&bytes, offset + 6, 0x4000)          // don't fragment
        bytes[offset + 8] = timeToLive
        bytes[offset + 9] = protocolNumber
        writeBE16(&bytes, offset + 10, 0)              // the checksum, over the header with this field zero
        writeBE32(&bytes, offset + 12, source)
        writeBE32(&bytes, offset + 16, destination)
        writeBE16(&bytes, offset + 10, InternetChecksum.compute(bytes[offset..<(offset + headerLength)]))
    }
}

public struct ICMPEcho: Equatable {
    public static let reply: UInt8 = 0, request: UInt8 = 8

    public let type: UInt8
    public let identifier: UInt16
    public let sequence: UInt16
    public let data: [UInt8]

    public init(type: UInt8, identifier: UInt16, sequence: UInt16, data: [UInt8]) {
        self.type = type
        self.identifier = identifier
        self.sequence = sequence
        self.data = data
    }

    /// An echo request or reply whose checksum holds.
    public init?(parsing bytes: ArraySlice<UInt8>) {
        guard bytes.count >= 8, InternetChecksum.compute(bytes) == 0 else { return nil }
        type = bytes[bytes.startIndex]
        guard type == ICMPEcho.request || type == ICMPEcho.reply, bytes[bytes.startIndex + 1] == 0 else { return nil }
        identifier = readBE16(bytes, 4)
        sequence = readBE16(bytes, 6)
        data = Array(bytes[(bytes.startIndex + 8)...])
    }

    public func emit() -> [UInt8] {
        var bytes: [UInt8] = [type, 0, 0, 0]
        appendBE16(&bytes, identifier)
        appendBE16(&bytes, sequence)
        bytes += data
        let checksum = InternetChecksum.compute(bytes[...])
        bytes[2] = UInt8(checksum >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: checksum)
        return bytes
    }
}

public struct UDPDatagram: Equatable {
    public let sourcePort: UInt16
    public let destinationPort: UInt16
    public let data: [UInt8]

    public init(sourcePort: UInt16, destinationPort: UInt16, data: [UInt8]) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.data = data
    }

    /// An IPv4 datagram.
    public init?(parsing bytes: ArraySlice<UInt8>, source: UInt32, destination: UInt32) {
        self.init(parsing: bytes, between: .v4(source: source, destination: destination))
    }

    /// Checks the length and, when the sender set one, the checksum over the
    /// pseudo-header (always over IPv6, where a zero checksum is not allowed: RFC 8200 8.1).
    public init?(parsing bytes: ArraySlice<UInt8>, between addresses: AddressPair) {
        guard bytes.count >= 8 else { return nil }
        let length = Int(readBE16(bytes, 4))
        guard length >= 8, length <= bytes.count else { return nil }
        let datagram = bytes[bytes.startIndex..<(bytes.startIndex + length)]
        var required = false
        if case .v6 = addresses { required = true }
        if readBE16(bytes, 6) != 0 || required {
            guard UDPDatagram.checksum(datagram, between: addresses) == 0 else { return nil }
        }
        sourcePort = readBE16(bytes, 0)
        destinationPort = readBE16(bytes, 2)
        data = Array(datagram.dropFirst(8))
    }

    static func checksum(_ datagram: ArraySlice<UInt8>, between addresses: AddressPair) -> UInt16 {
        let pseudo = addresses.pseudoHeaderSum(protocolNumber: IPv4Packet.udp, length: datagram.count)
        return InternetChecksum.finish(InternetChecksum.sum(datagram, initial: pseudo))
    }

    /// As an IPv4 datagram.
    public func emit(source: UInt32, destination: UInt32) -> [UInt8] {
        emit(between: .v4(source: source, destination: destination))
    }

    /// The datagram's bytes, after `headroom` bytes left for the headers that will wrap it.
    public func emit(between addresses: AddressPair, headroom: Int = 0) -> [UInt8] {
        var bytes = packet(headroom: headroom, headerLength: 8, payload: data[...]) { header in
            header.storeBytes(of: sourcePort.bigEndian, toByteOffset: 0, as: UInt16.self)
            header.storeBytes(of: destinationPort.bigEndian, toByteOffset: 2, as: UInt16.self)
            header.storeBytes(of: UInt16(8 + data.count).bigEndian, toByteOffset: 4, as: UInt16.self)
            header.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)   // the checksum, filled below
        }
        var checksum = UDPDatagram.checksum(bytes[headroom...], between: addresses)
        if checksum == 0 { checksum = 0xFFFF }   // zero means "none" in UDP
        writeBE16(&bytes, headroom + 6, checksum)
        return bytes
    }
}

/// ICMP destination unreachable (type 3), quoting the offending datagram's
/// IP header and first 8 bytes of payload.
public enum ICMPUnreachable {
    public static let port: UInt8 = 3

    public static func emit(code: UInt8, quoting original: ArraySlice<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = [3, code, 0, 0, 0, 0, 0, 0]
        let headerLength = original.isEmpty ? 0 : Int(original[original.startIndex] & 0x0F) * 4
        bytes += original.prefix(min(original.count, headerLength + 8))
        let checksum = InternetChecksum.compute(bytes[...])
        bytes[2] = UInt8(checksum >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: checksum)
        return bytes
    }
}
