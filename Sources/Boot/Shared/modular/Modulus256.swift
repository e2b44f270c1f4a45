/// A 256-bit number as eight 32-bit limbs, least significant first.
typealias Limbs256 = InlineArray<8, UInt32>

/// Arithmetic modulo an odd 256-bit number m (P-256's prime p or its group
/// order n, Curve25519's prime 2^255 - 19) in Montgomery form: x is held as x R mod m with R = 2^256, so
/// that a product needs no division (CIOS: one word of the multiplier at a
/// time, each followed by a word of reduction).
///
/// Constant time: the loops run over every limb whatever the values; a
/// result's final subtraction of m is chosen by a mask from the borrow; the
/// exponent of `inverse` (m - 2) is public. Nothing branches on or indexes
/// by a value; `power`'s exponents are public.
struct Modulus256 {
    let modulus: Limbs256
    /// -m^-1 mod 2^32.
    let negatedInverse: UInt32
    /// R^2 mod m, to bring numbers into Montgomery form.
    let rSquared: Limbs256

    init(bigEndianHex text: String) {
        modulus = Modulus256.limbs(bigEndian: hexBytes(text))
        // Newton's iteration doubles the correct low bits of m^-1 each step: 1, 2, 4, ... 32 (m is odd).
        var inverse: UInt32 = 1
        for _ in 0..<5 { inverse = inverse &* (2 &- modulus[0] &* inverse) }
        negatedInverse = 0 &- inverse
        // R^2 mod m by doubling 1 modulo m 512 times (m is public).
        var square = Limbs256(repeating: 0)
        square[0] = 1
        for _ in 0..<512 { square = Modulus256.add(square, square, modulo: modulus) }
        rSquared = square
    }

    static func limbs(bigEndian bytes: [UInt8]) -> Limbs256 {
        precondition(bytes.count == 32)
        var limbs = Limbs256(repeating: 0)
        for index in 0..<8 {
            let offset = 28 - 4 * index
            limbs[index] = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        }
        return limbs
    }

    static func bigEndianBytes(_ limbs: Limbs256) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in stride(from: 7, through: 0, by: -1) {
            let limb = limbs[index]
            bytes += [UInt8(truncatingIfNeeded: limb >> 24), UInt8(truncatingIfNeeded: limb >> 16),
                      UInt8(truncatingIfNeeded: limb >> 8), UInt8(truncatingIfNeeded: limb)]
        }
        return bytes
    }

    /// a - b over 256 bits, and the borrow out (1 if a < b).
    static func subtractWithBorrow(_ a: Limbs256, _ b: Limbs256) -> (Limbs256, UInt32) {
        var difference = Limbs256(repeating: 0)
        var borrow: UInt64 = 0
        for index in 0..<8 {
            let value = UInt64(a[index]) &- UInt64(b[index]) &- borrow
            difference[index] = UInt32(truncatingIfNeeded: value)
            borrow = (value >> 63) & 1
        }
        return (difference, UInt32(borrow))
    }

    /// `second` where `mask` is all ones, `first` where it is zero.
    static func select(_ first: Limbs256, _ second: Limbs256, mask: UInt32) -> Limbs256 {
        var chosen = first
        for index in 0..<8 { chosen[index] = (first[index] & ~mask) | (second[index] & mask) }
        return chosen
    }

    /// a + b over 256 bits, and the carry out.
    static func addWithCarry(_ a: Limbs256, _ b: Limbs256) -> (Limbs256, UInt32) {
        var sum = Limbs256(repeating: 0)
        var carry: UInt64 = 0
        for index in 0..<8 {
            let value = UInt64(a[index]) + UInt64(b[index]) + carry
            sum[index] = UInt32(truncatingIfNeeded: value)
            carry = value >> 32
        }
        return (sum, UInt32(carry))
    }

    /// (a + b) mod m for a, b below m.
    static func add(_ a: Limbs256, _ b: Limbs256, modulo m: Limbs256) -> Limbs256 {
        let (sum, carry) = addWithCarry(a, b)
        let (reduced, borrow) = subtractWithBorrow(sum, m)
        // Take the reduced sum if the addition carried out or the subtraction did not borrow.
        let keepReduced = carry | (1 - borrow)
        return select(sum, reduced, mask: 0 &- keepReduced)
    }

    func add(_ a: Limbs256, _ b: Limbs256) -> Limbs256 { Modulus256.add(a, b, modulo: modulus) }

    /// (a - b) mod m for a, b below m.
    func subtract(_ a: Limbs256, _ b: Limbs256) -> Limbs256 {
        let (difference, borrow) = Modulus256.subtractWithBorrow(a, b)
        // A borrow means a - b + 2^256: adding m wraps it to a - b + m.
        let corrected = Modulus256.addWithCarry(difference, modulus).0
        return Modulus256.select(difference, corrected, mask: 0 &- borrow)
    }

    /// a b R^-1 mod m (CIOS).
    func multiply(_ a: Limbs256, _ b: Limbs256) -> Limbs256 {
        var t = InlineArray<10, UInt32>(repeating: 0)
        for i in 0..<8 {
            var carry: UInt64 = 0
            for j in 0..<8 {
                let value = UInt64(t[j]) + UInt64(a[j]) * UInt64(b[i]) + carry
                t[j] = UInt32(truncatingIfNeeded: value)
                carry = value >> 32
            }
            var value = UInt64(t[8]) + carry
            t[8] = UInt32(truncatingIfNeeded: value)
            t[9] = UInt32(truncatingIfNeeded: value >> 32)
            // Add the multiple of m that clears the lowest word, and shift down a word.
            let factor = t[0] &* negatedInverse
            value = UInt64(t[0]) + UInt64(factor) * UInt64(modulus[0])
            carry = value >> 32
            for j in 1..<8 {
                value = UInt64(t[j]) + UInt64(factor) * UInt64(modulus[j]) + carry
                t[j - 1] = UInt32(truncatingIfNeeded: value)
                carry = value >> 32
            }
            value = UInt64(t[8]) + carry
            t[7] = UInt32(truncatingIfNeeded: value)
            t[8] = t[9] + UInt32(truncatingIfNeeded: value >> 32)
        }
        var result = Limbs256(repeating: 0)
        for index in 0..<8 { result[index] = t[index] }
        let (reduced, borrow) = Modulus256.subtractWithBorrow(result, modulus)
        return Modulus256.select(result, reduced, mask: 0 &- (t[8] | (1 - borrow)))
    }

    func toMontgomery(_ x: Limbs256) -> Limbs256 { multiply(x, rSquared) }

    func fromMontgomery(_ x: Limbs256) -> Limbs256 {
        var one = Limbs256(repeating: 0)
        one[0] = 1
        return multiply(x, one)
    }

    /// The Montgomery form of 1.
    var one: Limbs256 { var one = Limbs256(repeating: 0); one[0] = 1; return toMontgomery(one) }

    /// x^(m-2) = x^-1 for a prime m, in Montgomery form; zero stays zero.
    func inverse(_ x: Limbs256) -> Limbs256 {
        var exponent = modulus
        exponent[0] -= 2                      // m is odd and far above 2: no borrow
        return power(x, exponent)
    }

    /// x^exponent in Montgomery form, by squaring and multiplying along the
    /// exponent's bits: a public exponent only.
    func power(_ x: Limbs256, _ exponent: Limbs256) -> Limbs256 {
        var result = one
        for bit in stride(from: 255, through: 0, by: -1) {
            result = multiply(result, result)
            if (exponent[bit / 32] >> UInt32(bit % 32)) & 1 == 1 { result = multiply(result, x) }
        }
        return result
    }

    /// x mod m for any x below 2m (any 256-bit x for P-256's p and n).
    func reduceOnce(_ x: Limbs256) -> Limbs256 {
        let (reduced, borrow) = Modulus256.subtractWithBorrow(x, modulus)
        return Modulus256.select(x, reduced, mask: 0 &- (1 - borrow))
    }

    /// Whether x is below m (a public check, of keys and signatures).
    func contains(_ x: Limbs256) -> Bool { Modulus256.subtractWithBorrow(x, modulus).1 == 1 }

    static func isZero(_ x: Limbs256) -> Bool {
        var any: UInt32 = 0
        for index in 0..<8 { any |= x[index] }
        return any == 0
    }
}
