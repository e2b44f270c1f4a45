/// An element of the field of integers modulo p = 2^255 - 19, the field of
/// Curve25519 (RFC 7748) and, later, Ed25519.
///
/// Sixteen signed limbs of 16 bits, least significant first, each held in an
/// Int64: a product of two limbs fits in 32 bits and a row of sixteen of them
/// (times 38, below) far inside 64, so multiplication needs no carries until
/// the end, and subtraction may leave limbs negative without harm.
///
/// Constant time: every operation is the same fixed sequence of additions,
/// multiplications, shifts and masks whatever the values; no branch and no
/// index depends on a limb. `select` and `swap` choose by masks.
struct Field25519 {
    var limbs: InlineArray<16, Int64>

    init(limbs: InlineArray<16, Int64>) { self.limbs = limbs }

    /// A small constant, such as 1 or the curve's a24 = 121665.
    init(_ value: Int64) {
        limbs = InlineArray(repeating: 0)
        limbs[0] = value & 0xffff
        limbs[1] = value >> 16
    }

    static let zero = Field25519(0)
    static let one = Field25519(1)

    /// The element whose little-endian encoding is the 32 `bytes` from
    /// `offset`, with the top bit ignored, as RFC 7748 section 5 requires
    /// of a u-coordinate. Values from p to 2^255 - 1 are accepted and reduced.
    init(littleEndian bytes: [UInt8], offset: Int = 0) {
        limbs = InlineArray(repeating: 0)
        for index in 0..<16 {
            limbs[index] = Int64(bytes[offset + 2 * index]) | Int64(bytes[offset + 2 * index + 1]) << 8
        }
        limbs[15] &= 0x7fff
    }

    /// The canonical 32-byte little-endian encoding: fully reduced below p.
    var littleEndianBytes: [UInt8] {
        var value = self
        value.carry()
        value.carry()
        value.carry()
        // Now 0 <= value < 2^256 with small limbs; p is subtracted twice,
        // each time kept only if it did not go negative.
        for _ in 0..<2 {
            var reduced = value
            reduced.limbs[0] = value.limbs[0] - 0xffed
            for index in 1..<15 {
                reduced.limbs[index] = value.limbs[index] - 0xffff - ((reduced.limbs[index - 1] >> 16) & 1)
                reduced.limbs[index - 1] &= 0xffff
            }
            reduced.limbs[15] = value.limbs[15] - 0x7fff - ((reduced.limbs[14] >> 16) & 1)
            reduced.limbs[14] &= 0xffff
            let borrow = (reduced.limbs[15] >> 16) & 1
            reduced.limbs[15] &= 0xffff
            value = Field25519.select(value, reduced, takeSecond: 1 - borrow)
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<16 {
            bytes[2 * index] = UInt8(truncatingIfNeeded: value.limbs[index])
            bytes[2 * index + 1] = UInt8(truncatingIfNeeded: value.limbs[index] >> 8)
        }
        return bytes
    }

    /// Moves each limb's excess above 16 bits into the next; the excess of the
    /// top limb is worth 2^256 = 38 (mod p) and goes back into the lowest.
    mutating func carry() {
        for index in 0..<16 {
            let excess = limbs[index] >> 16
            limbs[index] -= excess << 16
            if index < 15 {
                limbs[index + 1] += excess
            } else {
                limbs[0] += 38 * excess
            }
        }
    }

    static func + (a: Field25519, b: Field25519) -> Field25519 {
        var sum = a
        for index in 0..<16 { sum.limbs[index] += b.limbs[index] }
        return sum
    }

    static func - (a: Field25519, b: Field25519) -> Field25519 {
        var difference = a
        for index in 0..<16 { difference.limbs[index] -= b.limbs[index] }
        return difference
    }

    static func * (a: Field25519, b: Field25519) -> Field25519 {
        var wide = InlineArray<31, Int64>(repeating: 0)
        for i in 0..<16 {
            for j in 0..<16 { wide[i + j] += a.limbs[i] * b.limbs[j] }
        }
        // 2^256 = 38 (mod p): fold the upper fifteen limbs into the lower.
        var product = Field25519.zero
        for index in 0..<15 { product.limbs[index] = wide[index] + 38 * wide[index + 16] }
        product.limbs[15] = wide[15]
        product.carry()
        product.carry()
        return product
    }

    func squared() -> Field25519 { self * self }

    /// The inverse, as self^(p - 2) (Fermat); zero maps to zero.
    /// p - 2 = 2^255 - 21: bits 254 to 0 all set but bits 4 and 2.
    func inverted() -> Field25519 { power(highestBit: 254, clearBits: [4, 2]) }

    /// self^((p - 5) / 8), the step of a square root (RFC 8032 section 5.1.3).
    /// (p - 5) / 8 = 2^252 - 3: bits 251 to 0 all set but bit 1.
    func powerP58() -> Field25519 { power(highestBit: 251, clearBits: [1]) }

    /// self raised to the exponent whose bits from `highestBit` down are all
    /// set but `clearBits`, by squaring and multiplying. The exponent is
    /// public, so following its bits is not a leak.
    func power(highestBit: Int, clearBits: [Int]) -> Field25519 {
        var result = self
        for bit in stride(from: highestBit - 1, through: 0, by: -1) {
            result = result.squared()
            if !clearBits.contains(bit) { result = result * self }
        }
        return result
    }

    /// `second` if `takeSecond` is 1, `first` if it is 0, chosen by a mask.
    static func select(_ first: Field25519, _ second: Field25519, takeSecond: Int64) -> Field25519 {
        let mask = -takeSecond
        var chosen = first
        for index in 0..<16 { chosen.limbs[index] ^= mask & (first.limbs[index] ^ second.limbs[index]) }
        return chosen
    }

    /// Exchanges `a` and `b` if `bit` is 1, by a mask.
    static func swap(_ a: inout Field25519, _ b: inout Field25519, if bit: Int64) {
        let mask = -bit
        for index in 0..<16 {
            let difference = mask & (a.limbs[index] ^ b.limbs[index])
            a.limbs[index] ^= difference
            b.limbs[index] ^= difference
        }
    }
}
