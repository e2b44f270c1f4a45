/// A TCP segment (RFC 9293 3.1) and its options: maximum segment size,
/// window scale and timestamps (RFC 7323), SACK-permitted and SACK blocks
/// (RFC 2018). A packet view: it parses bytes, checking every length and
/// the checksum over the pseudo-header, and emits them back. A parsed
/// segment's data is a view of the frame it came in, not a copy.
public struct TCPSegment: Equatable {
    public static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08, ack: UInt8 = 0x10

    public let sourcePort: UInt16
    public let destinationPort: UInt16
    public let sequence: UInt32
    public let acknowledgment: UInt32
    public let flags: UInt8
    public let window: UInt16
    public let options: TCPOptions
    public let data: ArraySlice<UInt8>

    public init(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32, acknowledgment: UInt32, flags: UInt8,
                window: UInt16, options: TCPOptions = TCPOptions(), data: ArraySlice<UInt8> = []) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.window = window
        self.options = options
        self.data = data
    }

    public func has(_ flag: UInt8) -> Bool { flags & flag != 0 }

    /// Sequence space it takes: its data, and one each for SYN and FIN.
    public var length: UInt32 { UInt32(data.count) + (has(TCPSegment.syn) ? 1 : 0) + (has(TCPSegment.fin) ? 1 : 0) }

    /// An IPv4 segment.
    public init?(parsing bytes: ArraySlice<UInt8>, source: UInt32, destination: UInt32) {
        self.init(parsing: bytes, between: .v4(source: source, destination: destination))
    }

    /// Checks the header length, the options' lengths and the checksum over the pseudo-header.
    public init?(parsing bytes: ArraySlice<UInt8>, between addresses: AddressPair) {
        guard bytes.count >= 20 else { return nil }
        let headerLength = Int(bytes[bytes.startIndex + 12] >> 4) * 4
        guard headerLength >= 20, headerLength <= bytes.count else { return nil }
        let pseudo = addresses.pseudoHeaderSum(protocolNumber: IPv4Packet.tcp, length: bytes.count)
        guard InternetChecksum.finish(InternetChecksum.sum(bytes, initial: pseudo)) == 0,
              let options = TCPOptions(parsing: bytes[(bytes.startIndex + 20)..<(bytes.startIndex + headerLength)]) else { return nil }
        sourcePort = readBE16(bytes, 0)
        destinationPort = readBE16(bytes, 2)
        sequence = readBE32(bytes, 4)
        acknowledgment = readBE32(bytes, 8)
        flags = bytes[bytes.startIndex + 13]
        window = readBE16(bytes, 14)
        self.options = options
        data = bytes[(bytes.startIndex + headerLength)...]
    }

    /// As an IPv4 segment.
    public func emit(source: UInt32, destination: UInt32) -> [UInt8] {
        emit(between: .v4(source: source, destination: destination))
    }

    /// The segment's bytes, after `headroom` bytes left for the headers that
    /// will wrap it. With `checksumByDevice`, the checksum field holds only
    /// the pseudo-header's sum, for a device that completes it (`NetworkOffloads`).
    public func emit(between addresses: AddressPair, headroom: Int = 0, checksumByDevice: Bool = false) -> [UInt8] {
        let optionBytes = options.emit()
        let headerLength = 20 + optionBytes.count
        var bytes = packet(headroom: headroom, headerLength: headerLength, payload: data) { header in
            header.storeBytes(of: sourcePort.bigEndian, toByteOffset: 0, as: UInt16.self)
            header.storeBytes(of: destinationPort.bigEndian, toByteOffset: 2, as: UInt16.self)
            header.storeBytes(of: sequence.bigEndian, toByteOffset: 4, as: UInt32.self)
            header.storeBytes(of: acknowledgment.bigEndian, toByteOffset: 8, as: UInt32.self)
            header[12] = UInt8(headerLength / 4) << 4
            header[13] = flags
            header.storeBytes(of: window.bigEndian, toByteOffset: 14, as: UInt16.self)
            header.storeBytes(of: UInt32(0), toByteOffset: 16, as: UInt32.self)   // the checksum, filled below, and no urgent pointer
            for (index, byte) in optionBytes.enumerated() { header[20 + index] = byte }
        }
        let pseudo = addresses.pseudoHeaderSum(protocolNumber: IPv4Packet.tcp, length: bytes.count - headroom)
        writeBE16(&bytes, headroom + 16, checksumByDevice ? InternetChecksum.fold(pseudo)
                                                          : InternetChecksum.finish(InternetChecksum.sum(bytes[headroom...], initial: pseudo)))
        return bytes
    }
}

/// RFC 7323's timestamp option: the sender's clock, and the latest clock value it heard.
public struct TCPTimestamp: Equatable {
    public let value: UInt32
    public let echo: UInt32

    public init(value: UInt32, echo: UInt32) {
        self.value = value
        self.echo = echo
    }
}

/// A range of sequence numbers received beyond a gap (RFC 2018): `start` up to, not including, `end`.
public struct SACKBlock: Equatable {
    public let start: UInt32
    public let end: UInt32

    public init(start: UInt32, end: UInt32) {
        self.start = start
        self.end = end
    }
}

/// The options a segment carries; unknown ones are skipped.
public struct TCPOptions: Equatable {
    public var maximumSegmentSize: UInt16?
    /// The shift the sender applies to the windows it advertises (at most 14).
    public var windowScale: UInt8?
    public var sackPermitted = false
    public var timestamp: TCPTimestamp?
    public var sackBlocks: [SACKBlock] = []

    public init(maximumSegmentSize: UInt16? = nil, windowScale: UInt8? = nil, sackPermitted: Bool = false,
                timestamp: TCPTimestamp? = nil, sackBlocks: [SACKBlock] = []) {
        self.maximumSegmentSize = maximumSegmentSize
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.timestamp = timestamp
        self.sackBlocks = sackBlocks
    }

    /// nil if an option's length runs past the header or is below 2, or a known option has the wrong length.
    init?(parsing bytes: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let kind = bytes[index]
            if kind == 0 { break }
            if kind == 1 { index += 1; continue }
            guard index + 1 < bytes.endIndex else { return nil }
            let length = Int(bytes[index + 1])
            guard length >= 2, index + length <= bytes.endIndex else { return nil }
            let body = bytes[(index + 2)..<(index + length)]
            switch kind {
            case 2:
                guard length == 4 else { return nil }
                maximumSegmentSize = readBE16(body, 0)
            case 3:
                guard length == 3 else { return nil }
                windowScale = min(body[body.startIndex], 14)   // RFC 7323 2.3: larger shifts count as 14
            case 4:
                guard length == 2 else { return nil }
                sackPermitted = true
            case 5:
                guard (length - 2) % 8 == 0 else { return nil }
                sackBlocks = stride(from: 0, to: length - 2, by: 8).map { SACKBlock(start: readBE32(body, $0), end: readBE32(body, $0 + 4)) }
            case 8:
                guard length == 10 else { return nil }
                timestamp = TCPTimestamp(value: readBE32(body, 0), echo: readBE32(body, 4))
            default:
                break
            }
            index += length
        }
    }

    /// The options in 4-byte groups, padded with no-ops; at most 40 bytes
    /// (SACK blocks beyond what fits are left out).
    func emit() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40)
        if let mss = maximumSegmentSize { bytes += [2, 4, UInt8(mss >> 8), UInt8(truncatingIfNeeded: mss)] }
        if let timestamp {
            bytes += sackPermitted ? [4, 2] : [1, 1]
            bytes += [8, 10]
            appendBE32(&bytes, timestamp.value)
            appendBE32(&bytes, timestamp.echo)
        } else if sackPermitted {
            bytes += [1, 1, 4, 2]
        }
        if let windowScale { bytes += [1, 3, 3, windowScale] }
        let room = (40 - bytes.count - 4) / 8
        if !sackBlocks.isEmpty, room > 0 {
            let blocks = sackBlocks.prefix(room)
            bytes += [1, 1, 5, UInt8(2 + 8 * blocks.count)]
            for block in blocks {
                appendBE32(&bytes, block.start)
                appendBE32(&bytes, block.end)
            }
        }
        return bytes
    }
}
