/// Reads DER's tag-length-value elements (X.690) strictly: one-byte tags,
/// definite lengths in their shortest form of up to three bytes (16 MiB,
/// within a 32-bit Int), nothing that runs past its end. A certificate that
/// BER would take but DER does not is refused, since its signature is over
/// bytes that another reader might see differently.
struct DERReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }
    var contents: [UInt8] { bytes }
    /// The tag of the next element, if any.
    var nextTag: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// The next element if its tag is `tag`, as a reader of its contents.
    mutating func element(tag: UInt8) -> DERReader? {
        whole(tag: tag)?.contents
    }

    /// The next element if its tag is `tag`: its whole encoding (tag and
    /// length too, as signatures and name comparisons need) and its contents.
    mutating func whole(tag: UInt8) -> (encoding: [UInt8], contents: DERReader)? {
        guard offset + 2 <= bytes.count, bytes[offset] == tag else { return nil }
        var length = Int(bytes[offset + 1])
        var start = offset + 2
        if length >= 0x80 {
            let count = length & 0x7f
            guard count >= 1, count <= 3, start + count <= bytes.count, bytes[start] != 0 else { return nil }
            length = 0
            for index in 0..<count { length = length << 8 | Int(bytes[start + index]) }
            guard length >= 0x80 else { return nil }                       // the short form was required
            start += count
        }
        guard length <= bytes.count - start else { return nil }
        let encoding = Array(bytes[offset..<(start + length)])
        offset = start + length
        return (encoding, DERReader(Array(bytes[start..<(start + length)])))
    }

    /// An INTEGER's magnitude, big-endian without the sign byte; nil if it
    /// is negative or not minimally encoded.
    mutating func unsignedInteger() -> [UInt8]? {
        guard let value = element(tag: 0x02)?.contents, let first = value.first else { return nil }
        guard first & 0x80 == 0 else { return nil }
        guard value.count == 1 || first != 0 || value[1] & 0x80 != 0 else { return nil }
        return first == 0 && value.count > 1 ? Array(value.dropFirst()) : value
    }

    /// A BOOLEAN (DER: 0x00 or 0xFF only).
    mutating func boolean() -> Bool? {
        guard let value = element(tag: 0x01)?.contents, value.count == 1, value[0] == 0 || value[0] == 0xFF else { return nil }
        return value[0] == 0xFF
    }

    /// A BIT STRING with no unused bits, as bytes.
    mutating func bitStringBytes() -> [UInt8]? {
        guard let value = element(tag: 0x03)?.contents, value.first == 0 else { return nil }
        return Array(value.dropFirst())
    }
}
