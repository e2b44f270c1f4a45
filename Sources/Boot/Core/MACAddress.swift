/// An Ethernet address: six bytes held in one integer, so that frames and
/// caches carry no heap array per address.
public struct MACAddress: Equatable, ExpressibleByArrayLiteral {
    /// The 48 bits, the first byte on the wire most significant.
    public let value: UInt64

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// The first six of `bytes` (zeros for any missing).
    public init<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        var value: UInt64 = 0
        var count = 0
        for byte in bytes.prefix(6) {
            value = value << 8 | UInt64(byte)
            count += 1
        }
        self.value = value << UInt64(8 * (6 - count))
    }

    public init(arrayLiteral bytes: UInt8...) { self.init(bytes: bytes) }

    public static let broadcast = MACAddress(value: 0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(value: 0)

    /// Byte `index`, 0 first on the wire.
    public subscript(index: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> UInt64(8 * (5 - index))) }

    /// A group address: multicast or broadcast (the first byte's low bit).
    public var isMulticast: Bool { self[0] & 1 == 1 }

    /// Appends the six bytes to `bytes`.
    public func append(to bytes: inout [UInt8]) {
        for index in 0..<6 { bytes.append(self[index]) }
    }

    /// The six bytes.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return bytes
    }

    /// "52:54:00:12:34:56".
    public var text: String {
        let digits: StaticString = "0123456789abcdef"
        var text = ""
        for index in 0..<6 {
            if index > 0 { text += ":" }
            let byte = self[index]
            text.unicodeScalars.append(Unicode.Scalar(digits.utf8Start[Int(byte >> 4)]))
            text.unicodeScalars.append(Unicode.Scalar(digits.utf8Start[Int(byte & 0xF)]))
        }
        return text
    }
}
