/// Fragment reassembly for both families (RFC 791 3.2 with RFC 815's holes;
/// RFC 8200 4.5): the pieces of each datagram, keyed by what the family says
/// names it (IPv4: addresses, protocol, identification; IPv6: addresses,
/// identification), until all have come or the time runs out. Bounded: a
/// few datagrams at once, 64 KiB each. Overlapping pieces drop the datagram
/// (RFC 5722 for IPv6): they only come from attacks or broken senders.
struct Reassembly<Key: Equatable, Header> {
    struct Datagram {
        let key: Key
        /// The first fragment to arrive: its header stands for the whole.
        let header: Header
        /// Received pieces, by offset.
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        /// Known once the last fragment (no "more fragments") has come.
        var totalLength: Int?
        let expires: UInt64
    }

    var datagrams: [Datagram] = []
    private(set) var dropped = 0

    /// Takes the fragment of `key` at `offset`, received at `now`; returns the first header
    /// and the whole payload once complete. `lifetime` is in the same ticks as `now`.
    mutating func add(_ key: Key, header: Header, offset: Int, payload: ArraySlice<UInt8>, more: Bool, now: UInt64,
                      lifetime: UInt64) -> (header: Header, payload: [UInt8])? {
        expire(now: now)
        let end = offset + payload.count
        // Every fragment but the last carries a multiple of 8 bytes, and something.
        guard end <= ReassemblyLimits.maximumLength, !more || (payload.count % 8 == 0 && !payload.isEmpty) else {
            dropped += 1
            return nil
        }
        let index: Int
        if let found = datagrams.firstIndex(where: { $0.key == key }) {
            index = found
        } else {
            if datagrams.count >= ReassemblyLimits.maximumDatagrams {
                datagrams.removeFirst()
                dropped += 1
            }
            datagrams.append(Datagram(key: key, header: header, expires: now &+ lifetime))
            index = datagrams.count - 1
        }
        var datagram = datagrams[index]
        let overlaps = datagram.pieces.contains { offset < $0.offset + $0.bytes.count && $0.offset < end }
        let beyondEnd = datagram.totalLength.map { end > $0 || (!more && end != $0) } ?? false
        let beforeLastEnd = !more && datagram.pieces.contains { $0.offset + $0.bytes.count > end }
        if overlaps || beyondEnd || beforeLastEnd {
            datagrams.remove(at: index)
            dropped += 1
            return nil
        }
        datagram.pieces.append((offset, Array(payload)))
        if !more { datagram.totalLength = end }
        guard let total = datagram.totalLength, datagram.pieces.reduce(0, { $0 + $1.bytes.count }) == total else {
            datagrams[index] = datagram
            return nil
        }
        datagrams.remove(at: index)
        var whole = [UInt8](repeating: 0, count: total)
        for piece in datagram.pieces { whole.replaceSubrange(piece.offset..<(piece.offset + piece.bytes.count), with: piece.bytes) }
        return (datagram.header, whole)
    }

    mutating func expire(now: UInt64) {
        let before = datagrams.count
        datagrams.removeAll { $0.expires <= now }
        dropped += before - datagrams.count
    }
}

enum ReassemblyLimits {
    static var maximumDatagrams: Int { 8 }
    static var maximumLength: Int { 65_535 }
}

/// What names an IPv4 datagram's fragments.
struct IPv4FragmentKey: Equatable {
    let source: UInt32, destination: UInt32, protocolNumber: UInt8, identification: UInt16
}

/// What names an IPv6 packet's fragments.
struct IPv6FragmentKey: Equatable {
    let source: IPv6Address, destination: IPv6Address, identification: UInt32
}

extension Reassembly where Key == IPv4FragmentKey, Header == IPv4Packet {
    /// An IPv4 fragment; the whole datagram once complete.
    mutating func add(_ fragment: IPv4Packet, now: UInt64, lifetime: UInt64) -> IPv4Packet? {
        let key = IPv4FragmentKey(source: fragment.source, destination: fragment.destination, protocolNumber: fragment.protocolNumber,
                                  identification: fragment.identification)
        guard let whole = add(key, header: fragment, offset: fragment.fragmentOffset, payload: fragment.payload,
                              more: fragment.moreFragments, now: now, lifetime: lifetime) else { return nil }
        return IPv4Packet(reassembled: whole.header, payload: whole.payload)
    }
}

extension Reassembly where Key == IPv6FragmentKey, Header == IPv6Packet {
    /// An IPv6 fragment; the whole packet once complete, parsed again so that the
    /// headers after the fragment header are walked.
    mutating func add(_ packet: IPv6Packet, fragment: (offset: Int, more: Bool, identification: UInt32), now: UInt64,
                      lifetime: UInt64) -> IPv6Packet? {
        let key = IPv6FragmentKey(source: packet.source, destination: packet.destination, identification: fragment.identification)
        guard let whole = add(key, header: packet, offset: fragment.offset, payload: packet.payload, more: fragment.more,
                              now: now, lifetime: lifetime) else { return nil }
        let bytes = IPv6Packet.emit(source: whole.header.source, destination: whole.header.destination,
                                    nextHeader: whole.header.nextHeader, payload: whole.payload, hopLimit: whole.header.hopLimit)
        return IPv6Packet(parsing: bytes[...])
    }
}
