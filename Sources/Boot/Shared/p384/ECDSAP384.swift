/// ECDSA verification on NIST P-384 (y^2 = x^3 - 3x + b over the prime p).
///
/// Every value here is public (a key, a signature, a digest), so the
/// arithmetic need not be constant time: MontgomeryModulus for the field and
/// the group order, Jacobian coordinates with the usual special cases
/// (the point at infinity is Z = 0), and Shamir's trick for u1*G + u2*Q; inverses by Fermat's little theorem.
public enum ECDSAP384 {
    static let field = MontgomeryModulus(bigEndian: hexBytes(
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"))
    static let order = MontgomeryModulus(bigEndian: hexBytes(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"))
    static let b = field.toMontgomery(MontgomeryModulus.limbs(bigEndian: hexBytes(
        "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef"), count: 12))
    static let generator = JacobianPoint(
        x: field.toMontgomery(MontgomeryModulus.limbs(bigEndian: hexBytes(
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7"), count: 12)),
        y: field.toMontgomery(MontgomeryModulus.limbs(bigEndian: hexBytes(
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"), count: 12)),
        z: field.toMontgomery(one))
    static let one: [UInt32] = [1] + [UInt32](repeating: 0, count: 11)
    static let zero = [UInt32](repeating: 0, count: 12)

    /// Whether `signature` (DER: SEQUENCE { r, s }) is a P-384 ECDSA
    /// signature of `digest` (any hash; its leftmost 384 bits are used) by
    /// `publicKey` (uncompressed: 04, x, y; 97 bytes, on the curve).
    public static func isValidSignature(_ signature: [UInt8], digest: [UInt8], publicKey: [UInt8]) -> Bool {
        guard let (rBytes, sBytes) = ECDSAP256.parseDER(signature, size: 48), let q = point(uncompressed: publicKey) else { return false }
        let r = MontgomeryModulus.limbs(bigEndian: rBytes, count: 12), s = MontgomeryModulus.limbs(bigEndian: sBytes, count: 12)
        for value in [r, s] where value == zero || MontgomeryModulus.compare(value, order.limbs) >= 0 { return false }
        var e = MontgomeryModulus.limbs(bigEndian: Array(digest.prefix(48)), count: 12)
        if MontgomeryModulus.compare(e, order.limbs) >= 0 { MontgomeryModulus.subtract(&e, order.limbs) }
        // w = s^-1 (Fermat: s^(n-2)), u1 = e w, u2 = r w, all mod n.
        let w = order.power(order.toMontgomery(s), exponent: minusTwo(order.limbs))
        let u1 = order.fromMontgomery(order.multiply(w, order.toMontgomery(e)))
        let u2 = order.fromMontgomery(order.multiply(w, order.toMontgomery(r)))
        let sum = combination(u1, generator, u2, q)
        guard sum.z != zero else { return false }
        // x = X / Z^2, out of Montgomery form, reduced mod n, against r.
        let zInverse = field.power(sum.z, exponent: minusTwo(field.limbs))
        var x = field.fromMontgomery(field.multiply(sum.x, field.multiply(zInverse, zInverse)))
        if MontgomeryModulus.compare(x, order.limbs) >= 0 { MontgomeryModulus.subtract(&x, order.limbs) }
        return x == r
    }

    /// A point in Jacobian coordinates (x/z^2, y/z^3), each in Montgomery form.
    struct JacobianPoint {
        var x: [UInt32], y: [UInt32], z: [UInt32]
        static let infinity = JacobianPoint(x: one, y: one, z: zero)
    }

    /// The point of an uncompressed encoding, if its coordinates are below p and it is on the curve.
    static func point(uncompressed bytes: [UInt8]) -> JacobianPoint? {
        guard bytes.count == 97, bytes[0] == 4 else { return nil }
        let x = MontgomeryModulus.limbs(bigEndian: Array(bytes[1..<49]), count: 12)
        let y = MontgomeryModulus.limbs(bigEndian: Array(bytes[49...]), count: 12)
        guard MontgomeryModulus.compare(x, field.limbs) < 0, MontgomeryModulus.compare(y, field.limbs) < 0 else { return nil }
        let mx = field.toMontgomery(x), my = field.toMontgomery(y)
        // y^2 = x^3 - 3x + b
        let right = add(subtract(field.multiply(field.multiply(mx, mx), mx), add(mx, add(mx, mx))), b)
        guard field.multiply(my, my) == right else { return nil }
        return JacobianPoint(x: mx, y: my, z: field.toMontgomery(one))
    }

    /// u1 * P + u2 * Q, a bit of each at a time from the top (Shamir's trick).
    static func combination(_ u1: [UInt32], _ p: JacobianPoint, _ u2: [UInt32], _ q: JacobianPoint) -> JacobianPoint {
        let both = sum(p, q)
        var result = JacobianPoint.infinity
        for bit in stride(from: 383, through: 0, by: -1) {
            result = double(result)
            let a = u1[bit / 32] >> UInt32(bit % 32) & 1 == 1, c = u2[bit / 32] >> UInt32(bit % 32) & 1 == 1
            if a && c { result = sum(result, both) } else if a { result = sum(result, p) } else if c { result = sum(result, q) }
        }
        return result
    }

    /// 2P, by dbl-2001-b (a = -3).
    static func double(_ p: JacobianPoint) -> JacobianPoint {
        guard p.z != zero else { return p }
        let delta = square(p.z), gamma = square(p.y), beta = field.multiply(p.x, gamma)
        let alpha = times(3, field.multiply(subtract(p.x, delta), add(p.x, delta)))
        let x = subtract(square(alpha), times(8, beta))
        let z = subtract(subtract(square(add(p.y, p.z)), gamma), delta)
        let y = subtract(field.multiply(alpha, subtract(times(4, beta), x)), times(8, square(gamma)))
        return JacobianPoint(x: x, y: y, z: z)
    }

    /// P + Q, by add-2007-bl; a doubling when they are the same point.
    static func sum(_ p: JacobianPoint, _ q: JacobianPoint) -> JacobianPoint {
        if p.z == zero { return q }
        if q.z == zero { return p }
        let z1z1 = square(p.z), z2z2 = square(q.z)
        let u1 = field.multiply(p.x, z2z2), u2 = field.multiply(q.x, z1z1)
        let s1 = field.multiply(field.multiply(p.y, q.z), z2z2), s2 = field.multiply(field.multiply(q.y, p.z), z1z1)
        let h = subtract(u2, u1), r = times(2, subtract(s2, s1))
        if h == zero { return r == zero ? double(p) : .infinity }
        let i = square(times(2, h)), j = field.multiply(h, i), v = field.multiply(u1, i)
        let x = subtract(subtract(square(r), j), times(2, v))
        let y = subtract(field.multiply(r, subtract(v, x)), times(2, field.multiply(s1, j)))
        let z = field.multiply(subtract(subtract(square(add(p.z, q.z)), z1z1), z2z2), h)
        return JacobianPoint(x: x, y: y, z: z)
    }

    static func square(_ a: [UInt32]) -> [UInt32] { field.multiply(a, a) }

    /// (a + b) mod p, for a and b below p.
    static func add(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result = a, carry: UInt64 = 0
        for index in 0..<12 {
            let sum = UInt64(a[index]) + UInt64(b[index]) + carry
            result[index] = UInt32(truncatingIfNeeded: sum)
            carry = sum >> 32
        }
        if carry != 0 || MontgomeryModulus.compare(result, field.limbs) >= 0 { MontgomeryModulus.subtract(&result, field.limbs) }
        return result
    }

    /// (a - b) mod p, for a and b below p.
    static func subtract(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result = a
        let below = MontgomeryModulus.compare(a, b) < 0
        MontgomeryModulus.subtract(&result, b)
        if below {
            var carry: UInt64 = 0
            for index in 0..<12 {
                let sum = UInt64(result[index]) + UInt64(field.limbs[index]) + carry
                result[index] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
        }
        return result
    }

    /// k * a mod p, for a small k, by additions.
    static func times(_ k: Int, _ a: [UInt32]) -> [UInt32] {
        var result = a
        for _ in 1..<k { result = add(result, a) }
        return result
    }

    /// m - 2, for Fermat's inverse a^(m-2).
    static func minusTwo(_ m: [UInt32]) -> [UInt32] {
        var result = m
        MontgomeryModulus.subtract(&result, [2] + [UInt32](repeating: 0, count: m.count - 1))
        return result
    }
}
