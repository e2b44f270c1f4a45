/// IPv4 fragment reassembly (RFC 791 3.2, with RFC 815's holes): the
/// pieces of each datagram, keyed by source, destination, protocol and
/// identification, until all have come or the time runs out. Bounded:
/// a few datagrams at once, 65,535 bytes each; overlapping pieces drop
/// the datagram, as they only come from attacks or broken senders.
struct IPv4Reassembly {
    struct Datagram {
        let first: IPv4Packet
        /// Received pieces, by offset.
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        /// Known once the last fragment (no "more fragments") has come.
        var totalLength: Int?
        let expires: UInt64
    }

    static let maximumDatagrams = 8
    static let maximumLength = 65_535 - 20
    var datagrams: [Datagram] = []
    private(set) var dropped = 0

    /// Takes a fragment received at `now`; returns the whole datagram once complete.
    /// `lifetime` is in the same ticks as `now` (30 s, as Linux).
    mutating func add(_ fragment: IPv4Packet, now: UInt64, lifetime: UInt64) -> IPv4Packet? {
        expire(now: now)
        let end = fragment.fragmentOffset + fragment.payload.count
        // Every fragment but the last carries a multiple of 8 bytes.
        guard end <= IPv4Reassembly.maximumLength, !fragment.moreFragments || fragment.payload.count % 8 == 0,
              !fragment.payload.isEmpty || !fragment.moreFragments else {
            dropped += 1
            return nil
        }
        let index: Int
        if let found = datagrams.firstIndex(where: { Self.sameDatagram($0.first, fragment) }) {
            index = found
        } else {
            if datagrams.count >= IPv4Reassembly.maximumDatagrams {
                datagrams.removeFirst()
                dropped += 1
            }
            datagrams.append(Datagram(first: fragment, expires: now &+ lifetime))
            index = datagrams.count - 1
        }
        var datagram = datagrams[index]
        let overlaps = datagram.pieces.contains { fragment.fragmentOffset < $0.offset + $0.bytes.count && $0.offset < end }
        let beyondEnd = datagram.totalLength.map { end > $0 || (!fragment.moreFragments && end != $0) } ?? false
        let beforeLastEnd = !fragment.moreFragments && datagram.pieces.contains { $0.offset + $0.bytes.count > end }
        if overlaps || beyondEnd || beforeLastEnd {
            datagrams.remove(at: index)
            dropped += 1
            return nil
        }
        datagram.pieces.append((fragment.fragmentOffset, Array(fragment.payload)))
        if !fragment.moreFragments { datagram.totalLength = end }
        guard let total = datagram.totalLength, datagram.pieces.reduce(0, { $0 + $1.bytes.count }) == total else {
            datagrams[index] = datagram
            return nil
        }
        datagrams.remove(at: index)
        var payload = [UInt8](repeating: 0, count: total)
        for piece in datagram.pieces { payload.replaceSubrange(piece.offset..<(piece.offset + piece.bytes.count), with: piece.bytes) }
        return IPv4Packet(reassembled: datagram.first, payload: payload)
    }

    mutating func expire(now: UInt64) {
        let before = datagrams.count
        datagrams.removeAll { $0.expires <= now }
        dropped += before - datagrams.count
    }

    static func sameDatagram(_ a: IPv4Packet, _ b: IPv4Packet) -> Bool {
        a.source == b.source && a.destination == b.destination && a.protocolNumber == b.protocolNumber && a.identification == b.identification
    }
}
