/// Ed25519 signatures (RFC 8032 section 5.1): signing, for the certificates
/// a unikernel makes for itself, and verification, for the certificates and
/// handshake signatures of peers.
///
/// Constant time where there are secrets: signing multiplies the base point
/// by secret scalars through a table of its multiples read whole, each
/// entry kept or not by a mask (FixedBaseTable, in modular), and reduces
/// scalars modulo L with fixed loops and masked corrections. Verification handles only public values
/// (keys, signatures, messages), so its point decoding may branch.
public enum Ed25519 {
    /// The public key of a 32-byte private key (random bytes from the entropy
    /// device's generator).
    public static func publicKey(privateKey: [UInt8]) -> [UInt8] {
        precondition(privateKey.count == 32, "an Ed25519 private key is 32 bytes")
        return EdwardsPoint.baseTimes(expand(privateKey).scalar).encoded
    }

    /// The 64-byte signature of `message` (R, then S).
    public static func signature(for message: [UInt8], privateKey: [UInt8]) -> [UInt8] {
        precondition(privateKey.count == 32, "an Ed25519 private key is 32 bytes")
        let (scalar, prefix) = expand(privateKey)
        let publicKey = EdwardsPoint.baseTimes(scalar).encoded
        let r = Scalar25519.reduce(SHA512.hash(prefix + message))
        let encodedR = EdwardsPoint.baseTimes(r).encoded
        let k = Scalar25519.reduce(SHA512.hash(encodedR + publicKey + message))
        return encodedR + Scalar25519.multiplyAdd(k, scalar, r)
    }

    /// Whether `signature` is `publicKey`'s over `message`: S below L, the
    /// key a point on the curve, and [S]B - [k]A encoding to R exactly (so a
    /// non-canonical R is refused too).
    public static func isValidSignature(_ signature: [UInt8], for message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, publicKey.count == 32 else { return false }
        let encodedR = Array(signature[0..<32]), s = Array(signature[32..<64])
        guard Scalar25519.isCanonical(s), let a = EdwardsPoint(encoded: publicKey) else { return false }
        let k = Scalar25519.reduce(SHA512.hash(encodedR + publicKey + message))
        let check = EdwardsPoint.baseTimes(s) + a.negated.multiplied(by: k)
        return check.encoded == encodedR
    }

    /// The clamped secret scalar and the hashing prefix of a private key.
    static func expand(_ privateKey: [UInt8]) -> (scalar: [UInt8], prefix: [UInt8]) {
        let digest = SHA512.hash(privateKey)
        var scalar = Array(digest[0..<32])
        X25519.clamp(&scalar)
        return (scalar, Array(digest[32..<64]))
    }
}

/// A point of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 in
/// extended coordinates: x = X/Z, y = Y/Z, x y = T/Z.
struct EdwardsPoint: CompleteCurvePoint {
    var x: Field25519, y: Field25519, z: Field25519, t: Field25519

    static let d = Field25519.zero - Field25519(121_665) * Field25519(121_666).inverted()
    static let doubleD = d + d
    /// 2^((p - 1) / 4), a square root of -1.
    static let rootOfMinusOne = Field25519(littleEndian: bytes(bigEndianHex: "2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0"))
    static let identity = EdwardsPoint(x: .zero, y: .one, z: .one, t: .zero)
    /// y = 4/5 with x even.
    static let base = EdwardsPoint(encoded: [0x58] + [UInt8](repeating: 0x66, count: 31))!

    init(x: Field25519, y: Field25519, z: Field25519, t: Field25519) {
        self.x = x; self.y = y; self.z = z; self.t = t
    }

    /// Decodes RFC 8032 section 5.1.3's 32 bytes: y, and x's low bit in the
    /// top bit. Nil for y not below p, or no x on the curve, or x = 0 with
    /// the bit set. Public input only: this branches on the value.
    init?(encoded: [UInt8]) {
        guard encoded.count == 32 else { return nil }
        let y = Field25519(littleEndian: encoded)
        var unmasked = encoded
        unmasked[31] &= 0x7f
        guard y.littleEndianBytes == unmasked else { return nil }      // y >= p
        let wantsOddX = encoded[31] >> 7 == 1
        // x^2 = u / v with u = y^2 - 1, v = d y^2 + 1; the candidate root is
        // u v^3 (u v^7)^((p - 5) / 8).
        let ySquared = y.squared()
        let u = ySquared - .one, v = EdwardsPoint.d * ySquared + .one
        let v3 = v.squared() * v
        var x = u * v3 * (u * v3.squared() * v).powerP58()
        let check = (v * x.squared()).littleEndianBytes
        if check == u.littleEndianBytes {
            // x is a root.
        } else if check == (Field25519.zero - u).littleEndianBytes {
            x = x * EdwardsPoint.rootOfMinusOne
        } else {
            return nil
        }
        let xBytes = x.littleEndianBytes
        if xBytes == [UInt8](repeating: 0, count: 32) && wantsOddX { return nil }
        if (xBytes[0] & 1 == 1) != wantsOddX { x = Field25519.zero - x }
        self.init(x: x, y: y, z: .one, t: x * y)
    }

    /// y, with x's low bit in the top bit.
    var encoded: [UInt8] {
        let inverse = z.inverted()
        var bytes = (y * inverse).littleEndianBytes
        bytes[31] |= ((x * inverse).littleEndianBytes[0] & 1) << 7
        return bytes
    }

    var negated: EdwardsPoint { EdwardsPoint(x: .zero - x, y: y, z: z, t: .zero - t) }

    /// The sum by RFC 8032 section 5.1.4's formulas, which are complete:
    /// they hold for doubling and for the identity too.
    static func + (p: EdwardsPoint, q: EdwardsPoint) -> EdwardsPoint {
        let a = (p.y - p.x) * (q.y - q.x), b = (p.y + p.x) * (q.y + q.x)
        let c = p.t * doubleD * q.t, d = p.z * (q.z + q.z)
        let e = b - a, f = d - c, g = d + c, h = b + a
        return EdwardsPoint(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    /// The point times a 32-byte little-endian scalar, in constant time (CompleteCurvePoint's fixed window).
    func multiplied(by scalar: [UInt8]) -> EdwardsPoint {
        multiplied(byNibbles: { EdwardsPoint.nibble($0, of: scalar) })
    }

    /// The base point's multiples, for keys, signatures and X25519's public keys (FixedBaseTable).
    static let baseMultiples = FixedBaseTable(base: base)

    /// The base point times a 32-byte little-endian scalar, in constant time.
    static func baseTimes(_ scalar: [UInt8]) -> EdwardsPoint {
        baseMultiples.multiplied(byNibbles: { EdwardsPoint.nibble($0, of: scalar) })
    }

    /// Nibble `index` of a little-endian scalar (0: the lowest).
    static func nibble(_ index: Int, of scalar: [UInt8]) -> UInt32 { UInt32(scalar[index >> 1] >> UInt8((index & 1) * 4)) & 0xF }

    static func choose(_ first: EdwardsPoint, _ second: EdwardsPoint, take: UInt32) -> EdwardsPoint {
        let takeSecond = Int64(take)
        return EdwardsPoint(x: .select(first.x, second.x, takeSecond: takeSecond), y: .select(first.y, second.y, takeSecond: takeSecond),
                            z: .select(first.z, second.z, takeSecond: takeSecond), t: .select(first.t, second.t, takeSecond: takeSecond))
    }
}

/// Integers modulo the group order L = 2^252 + 27742317777372353535851937790883648493,
/// as 32 little-endian bytes.
enum Scalar25519 {
    /// L, little-endian.
    static let order: [Int64] = bytes(bigEndianHex: "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed").map { Int64($0) }

    /// Whether 32 little-endian bytes are below L (public input only).
    static func isCanonical(_ scalar: [UInt8]) -> Bool {
        for index in stride(from: 31, through: 0, by: -1) where Int64(scalar[index]) != order[index] {
            return Int64(scalar[index]) < order[index]
        }
        return false
    }

    /// A 64-byte little-endian number (a SHA-512 digest) modulo L.
    static func reduce(_ wide: [UInt8]) -> [UInt8] {
        precondition(wide.count == 64)
        return reduce(limbs: wide.map { Int64($0) })
    }

    /// (a b + c) mod L for 32-byte scalars.
    static func multiplyAdd(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8]) -> [UInt8] {
        var limbs = [Int64](repeating: 0, count: 64)
        for i in 0..<32 {
            limbs[i] += Int64(c[i])
            for j in 0..<32 { limbs[i + j] += Int64(a[i]) * Int64(b[j]) }
        }
        return reduce(limbs: limbs)
    }

    /// Reduces 64 signed byte-sized limbs (each well inside 2^40) modulo L.
    /// 2^252 = -(L - 2^252) (mod L), so a limb at byte i >= 32, worth
    /// 16 * 2^252 * 2^(8(i - 32)), folds in as -16 (L - 2^252) at byte i - 32.
    /// Fixed loops and masks: the scalars are secret when signing.
    static func reduce(limbs: [Int64]) -> [UInt8] {
        var x = limbs
        for top in stride(from: 63, through: 32, by: -1) {
            let value = x[top]
            x[top] = 0
            for index in 0..<16 { x[top - 32 + index] -= 16 * value * order[index] }
            // Normalise below `top`; the last limb keeps the carry and is folded next.
            for index in (top - 32)..<(top - 1) { carry(&x, from: index) }
        }
        // Now below about 2^256: fold the bits above 252 the same way.
        let high = x[31] >> 4
        x[31] -= high << 4
        for index in 0..<16 { x[index] -= high * order[index] }
        for index in 0..<31 { carry(&x, from: index) }
        // Between -L and 2L: add L, then take off L twice where that stays non-negative.
        for index in 0..<32 { x[index] += order[index] }
        for _ in 0..<2 {
            var reduced = x
            for index in 0..<32 { reduced[index] -= order[index] }
            for index in 0..<31 { carry(&reduced, from: index) }
            let keep = reduced[31] >> 63          // all ones if negative: keep x
            for index in 0..<32 { x[index] = (x[index] & keep) | (reduced[index] & ~keep) }
        }
        for index in 0..<31 { carry(&x, from: index) }
        return x.prefix(32).map { UInt8(truncatingIfNeeded: $0) }
    }

    /// Moves limb `index`'s bits above 8 (signed) into the next limb.
    static func carry(_ x: inout [Int64], from index: Int) {
        let excess = x[index] >> 8
        x[index] -= excess << 8
        x[index + 1] += excess
    }
}

/// Little-endian bytes of a number written in big-endian hex, as the RFCs print constants.
private func bytes(bigEndianHex text: String) -> [UInt8] { Array(hexBytes(text).reversed()) }
