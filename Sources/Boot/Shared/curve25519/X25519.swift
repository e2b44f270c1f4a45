/// X25519 (RFC 7748 section 5): Diffie-Hellman on Curve25519's
/// u-coordinates, by the Montgomery ladder.
///
/// Constant time: the ladder does the same field operations for every bit
/// of the scalar and exchanges its two points by a mask (`Field25519.swap`),
/// never by a branch; the field arithmetic is itself constant time.
public enum X25519 {
    /// (A - 2) / 4 for Curve25519's A = 486662.
    static let a24 = Field25519(121_665)

    /// The public key of a 32-byte private key (random bytes from the
    /// entropy device's generator): the clamped scalar times the base point.
    /// Computed on the twisted Edwards curve, whose base point's multiples
    /// are in a table (Ed25519's, four times fewer operations than the
    /// ladder), then carried to Curve25519 by RFC 7748 section 4.1's map
    /// u = (1 + y) / (1 - y) = (Z + Y) / (Z - Y). A clamped scalar is a
    /// multiple of 8 below 2^255, never of the base's prime order, so the
    /// point is never the identity, where the map divides by zero.
    public static func publicKey(privateKey: [UInt8]) -> [UInt8] {
        precondition(privateKey.count == 32)
        var k = privateKey
        clamp(&k)
        let point = EdwardsPoint.baseTimes(k)
        return ((point.z + point.y) * (point.z - point.y).inverted()).littleEndianBytes
    }

    /// The shared secret of a private key and a peer's public key, or nil if
    /// it is all zeros: a public key of small order forces that value, and
    /// TLS 1.3 (RFC 8446 section 7.4.2) must then end the handshake.
    public static func sharedSecret(privateKey: [UInt8], peerPublicKey: [UInt8]) -> [UInt8]? {
        guard privateKey.count == 32, peerPublicKey.count == 32 else { return nil }
        let secret = scalarMultiply(scalar: privateKey, uCoordinate: peerPublicKey)
        var any: UInt8 = 0
        for byte in secret { any |= byte }
        return any == 0 ? nil : secret
    }

    /// Clears bits 0-2 and 255 of a 32-byte little-endian scalar and sets
    /// bit 254 (RFC 7748 section 5; Ed25519's secret scalar is clamped the
    /// same way, RFC 8032 section 5.1.5): a multiple of the cofactor 8. In
    /// place, so that it costs no allocation.
    static func clamp(_ k: inout [UInt8]) {
        k[0] &= 248
        k[31] &= 127
        k[31] |= 64
    }

    /// The function X25519(k, u) itself: the scalar clamped as the RFC says
    /// (bits 0-2 and 255 cleared, bit 254 set), the 32-byte u-coordinate
    /// read with its top bit masked. Both must be 32 bytes.
    public static func scalarMultiply(scalar: [UInt8], uCoordinate: [UInt8]) -> [UInt8] {
        precondition(scalar.count == 32 && uCoordinate.count == 32)
        var k = scalar
        clamp(&k)
        let x1 = Field25519(littleEndian: uCoordinate)
        var x2 = Field25519.one, z2 = Field25519.zero
        var x3 = x1, z3 = Field25519.one
        var swap: Int64 = 0
        for bit in stride(from: 254, through: 0, by: -1) {
            let kBit = Int64((k[bit >> 3] >> UInt8(bit & 7)) & 1)
            swap ^= kBit
            Field25519.swap(&x2, &x3, if: swap)
            Field25519.swap(&z2, &z3, if: swap)
            swap = kBit
            let a = x2 + z2, b = x2 - z2
            let aa = a.squared(), bb = b.squared()
            let e = aa - bb
            let c = x3 + z3, d = x3 - z3
            let da = d * a, cb = c * b
            x3 = (da + cb).squared()
            z3 = x1 * (da - cb).squared()
            x2 = aa * bb
            z2 = e * (aa + a24 * e)
        }
        Field25519.swap(&x2, &x3, if: swap)
        Field25519.swap(&z2, &z3, if: swap)
        return (x2 * z2.inverted()).littleEndianBytes
    }
}
