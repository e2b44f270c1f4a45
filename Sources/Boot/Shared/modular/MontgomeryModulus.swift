/// Montgomery arithmetic modulo an odd number of any length, for public
/// values only: RSA's moduli and P-384's field and order, where every
/// number is a key, a signature or a digest that anyone may see. Unlike
/// Modulus256 it branches on the values (the final subtraction, the
/// comparisons), so it must never see a secret.

/// An odd modulus of any length in 32-bit limbs, least significant first,
/// with Montgomery multiplication (CIOS, Koç et al. 1996) in R = 2^(32k).
struct MontgomeryModulus {
    let limbs: [UInt32]
    /// -n^-1 mod 2^32.
    let inverse: UInt32
    /// R^2 mod n, to enter Montgomery form.
    let rSquared: [UInt32]
    var count: Int { limbs.count }

    init(bigEndian: [UInt8]) {
        let count = (bigEndian.count + 3) / 4
        let n = MontgomeryModulus.limbs(bigEndian: bigEndian, count: count)
        limbs = n
        // Newton's iteration for n[0]^-1 mod 2^32: each step doubles the correct bits.
        var x: UInt32 = 1
        for _ in 0..<5 { x = x &* (2 &- n[0] &* x) }
        inverse = 0 &- x
        // R^2 mod n by doubling 1 (2 * 32k) times, subtracting n when it passes.
        var r = [UInt32](repeating: 0, count: count)
        r[0] = 1
        for _ in 0..<(64 * count) {
            var carry: UInt32 = 0
            for index in 0..<count {
                let next = r[index] >> 31
                r[index] = r[index] << 1 | carry
                carry = next
            }
            if carry == 1 || MontgomeryModulus.compare(r, n) >= 0 { MontgomeryModulus.subtract(&r, n) }
        }
        rSquared = r
    }

    /// a * b * R^-1 mod n, for a and b below n.
    func multiply(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        let k = count
        var t = [UInt32](repeating: 0, count: k + 2)
        for i in 0..<k {
            var carry: UInt64 = 0
            let ai = UInt64(a[i])
            for j in 0..<k {
                let sum = UInt64(t[j]) + ai * UInt64(b[j]) + carry
                t[j] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
            var sum = UInt64(t[k]) + carry
            t[k] = UInt32(truncatingIfNeeded: sum)
            t[k + 1] = UInt32(sum >> 32)
            let m = UInt64(t[0] &* inverse)
            sum = UInt64(t[0]) + m * UInt64(limbs[0])
            carry = sum >> 32
            for j in 1..<k {
                sum = UInt64(t[j]) + m * UInt64(limbs[j]) + carry
                t[j - 1] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
            sum = UInt64(t[k]) + carry
            t[k - 1] = UInt32(truncatingIfNeeded: sum)
            t[k] = t[k + 1] + UInt32(sum >> 32)
        }
        var result = Array(t[0..<k])
        if t[k] != 0 || MontgomeryModulus.compare(result, limbs) >= 0 { MontgomeryModulus.subtract(&result, limbs) }
        return result
    }

    func toMontgomery(_ a: [UInt32]) -> [UInt32] { multiply(a, rSquared) }

    /// base^exponent, the base and the result in Montgomery form, by square
    /// and multiply from the exponent's top set bit (limbs, least
    /// significant first): the loop follows a public exponent's bits
    /// (RSA's e, Fermat's m - 2).
    func power(_ base: [UInt32], exponent: [UInt32]) -> [UInt32] {
        var one = [UInt32](repeating: 0, count: count)
        one[0] = 1
        var result = toMontgomery(one)
        var started = false
        for bit in stride(from: exponent.count * 32 - 1, through: 0, by: -1) {
            if started { result = multiply(result, result) }
            if exponent[bit / 32] >> UInt32(bit % 32) & 1 == 1 {
                result = started ? multiply(result, base) : base
                started = true
            }
        }
        return result
    }

    func fromMontgomery(_ a: [UInt32]) -> [UInt32] {
        var one = [UInt32](repeating: 0, count: count)
        one[0] = 1
        return multiply(a, one)
    }

    static func limbs(bigEndian bytes: [UInt8], count: Int) -> [UInt32] {
        var limbs = [UInt32](repeating: 0, count: count)
        for (index, byte) in bytes.reversed().enumerated() where index / 4 < count {
            limbs[index / 4] |= UInt32(byte) << UInt32(8 * (index % 4))
        }
        return limbs
    }

    static func bigEndianBytes(_ limbs: [UInt32], count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count where index / 4 < limbs.count {
            bytes[count - 1 - index] = UInt8(truncatingIfNeeded: limbs[index / 4] >> UInt32(8 * (index % 4)))
        }
        return bytes
    }

    /// -1, 0 or 1 as a is below, equal to or above b (same length).
    static func compare(_ a: [UInt32], _ b: [UInt32]) -> Int {
        for index in (0..<a.count).reversed() where a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
        return 0
    }

    /// a -= b, modulo 2^(32k).
    static func subtract(_ a: inout [UInt32], _ b: [UInt32]) {
        var borrow: UInt32 = 0
        for index in 0..<a.count {
            let (d1, o1) = a[index].subtractingReportingOverflow(b[index])
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            a[index] = d2
            borrow = (o1 || o2) ? 1 : 0
        }
    }
}
