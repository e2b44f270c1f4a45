/// An element of the field of integers modulo p = 2^255 - 19, the field of
/// Curve25519 (RFC 7748) and edwards25519 (RFC 8032), kept in Montgomery
/// form in eight 32-bit limbs (Modulus256): 32-bit products, which a 32-bit
/// core multiplies in one instruction, rather than 64-bit ones.
///
/// Constant time: Modulus256's arithmetic is; `select` and `swap` choose by
/// masks; the exponents of `inverted` and `powerP58` are public.
struct Field25519 {
    static let modulus = Modulus256(bigEndianHex: "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed")
    var limbs: Limbs256

    init(montgomery limbs: Limbs256) { self.limbs = limbs }

    /// A small constant, such as 1 or the curve's a24 = 121665.
    init(_ value: UInt32) {
        var plain = Limbs256(repeating: 0)
        plain[0] = value
        limbs = Field25519.modulus.toMontgomery(plain)
    }

    static let zero = Field25519(0)
    static let one = Field25519(1)

    /// The element whose little-endian encoding is the 32 `bytes` from
    /// `offset`, with the top bit ignored, as RFC 7748 section 5 requires
    /// of a u-coordinate. Values from p to 2^255 - 1 are accepted and reduced.
    init(littleEndian bytes: [UInt8], offset: Int = 0) {
        var bigEndian = Array(bytes[offset..<(offset + 32)].reversed())
        bigEndian[0] &= 0x7f
        // Below 2^255 < 2p: one conditional subtraction reduces it.
        let plain = Field25519.modulus.reduceOnce(Modulus256.limbs(bigEndian: bigEndian))
        limbs = Field25519.modulus.toMontgomery(plain)
    }

    /// The canonical 32-byte little-endian encoding.
    var littleEndianBytes: [UInt8] {
        Array(Modulus256.bigEndianBytes(Field25519.modulus.fromMontgomery(limbs)).reversed())
    }

    static func + (a: Field25519, b: Field25519) -> Field25519 { Field25519(montgomery: modulus.add(a.limbs, b.limbs)) }
    static func - (a: Field25519, b: Field25519) -> Field25519 { Field25519(montgomery: modulus.subtract(a.limbs, b.limbs)) }
    static func * (a: Field25519, b: Field25519) -> Field25519 { Field25519(montgomery: modulus.multiply(a.limbs, b.limbs)) }

    func squared() -> Field25519 { self * self }

    /// The inverse, as self^(p - 2) (Fermat); zero maps to zero.
    func inverted() -> Field25519 { Field25519(montgomery: Field25519.modulus.inverse(limbs)) }

    /// self^((p - 5) / 8) = self^(2^252 - 3), the step of a square root (RFC 8032 section 5.1.3).
    func powerP58() -> Field25519 {
        var exponent = Limbs256(repeating: 0xffff_ffff)
        exponent[7] = 0x0fff_ffff
        exponent[0] = 0xffff_fffd
        return Field25519(montgomery: Field25519.modulus.power(limbs, exponent))
    }

    /// `second` if `takeSecond` is 1, `first` if it is 0, chosen by a mask.
    static func select(_ first: Field25519, _ second: Field25519, takeSecond: Int64) -> Field25519 {
        Field25519(montgomery: Modulus256.select(first.limbs, second.limbs, mask: 0 &- UInt32(truncatingIfNeeded: takeSecond)))
    }

    /// Exchanges `a` and `b` if `bit` is 1, by a mask.
    static func swap(_ a: inout Field25519, _ b: inout Field25519, if bit: Int64) {
        let mask = 0 &- UInt32(truncatingIfNeeded: bit)
        for index in 0..<8 {
            let difference = mask & (a.limbs[index] ^ b.limbs[index])
            a.limbs[index] ^= difference
            b.limbs[index] ^= difference
        }
    }
}
