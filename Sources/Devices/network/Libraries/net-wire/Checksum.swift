/// What every packet view shares: big-endian fields and the Internet
/// checksum. Used by the IPv4 stack and the IPv6 layer alike.

/// The Internet checksum (RFC 1071): the ones' complement of the ones'
/// complement sum of 16-bit words.
public enum InternetChecksum {
    /// The sum of `bytes` as big-endian 16-bit words (a last odd byte padded
    /// with zero), folded to 16 bits, plus `initial`. Sums four bytes at a time
    /// in the CPU's own order and swaps once at the end, which gives the same
    /// result (RFC 1071 2(B)): most of a frame's cost on the device.
    public static func sum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt32 {
        let littleEndian: UInt64 = bytes.withUnsafeBytes { raw in
            var total: UInt64 = 0
            var offset = 0
            while offset + 4 <= raw.count {
                total &+= UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                offset += 4
            }
            if offset + 2 <= raw.count {
                total &+= UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                offset += 2
            }
            if offset < raw.count { total &+= UInt64(raw[offset]) }
            return total
        }
        var folded = littleEndian
        while folded >> 16 != 0 { folded = (folded & 0xFFFF) + (folded >> 16) }
        return initial &+ UInt32(UInt16(truncatingIfNeeded: folded).byteSwapped)
    }

    /// The sum of an IPv4 pseudo-header (RFC 9293 3.1, RFC 768) for a segment of `length` bytes.
    public static func pseudoHeaderSum(source: UInt32, destination: UInt32, protocolNumber: UInt8, length: Int) -> UInt32 {
        (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF) + UInt32(protocolNumber)
            + UInt32(truncatingIfNeeded: length & 0xFFFF)
    }

    public static func finish(_ sum: UInt32) -> UInt16 { ~fold(sum) }

    /// The sum folded to 16 bits, not complemented: what a device that
    /// completes checksums finds in the field and adds the data to.
    public static func fold(_ sum: UInt32) -> UInt16 {
        var total = sum
        while total >> 16 != 0 { total = (total & 0xFFFF) + (total >> 16) }
        return UInt16(total)
    }

    public static func compute(_ bytes: ArraySlice<UInt8>) -> UInt16 { finish(sum(bytes)) }
}
