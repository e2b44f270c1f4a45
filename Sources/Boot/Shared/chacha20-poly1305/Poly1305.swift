/// Poly1305 (RFC 8439 2.5): a one-time authenticator over a 32-byte key,
/// the accumulator kept in five 26-bit limbs so that every product fits a
/// 64-bit word.
///
/// Constant time: the same multiplications, additions and shifts for any
/// key and message; the final reduction modulo 2^130 - 5 chooses between
/// two values with a mask, not a branch. Only lengths (public) steer loops.
public struct Poly1305 {
    let r0, r1, r2, r3, r4: UInt64
    let s1, s2, s3, s4: UInt64
    let pad: (UInt32, UInt32, UInt32, UInt32)
    var h0: UInt64 = 0, h1: UInt64 = 0, h2: UInt64 = 0, h3: UInt64 = 0, h4: UInt64 = 0
    /// A partial 16-byte block waiting for more.
    var pending = [UInt8](repeating: 0, count: 16)
    var pendingCount = 0

    static let limb: UInt64 = 0x3ff_ffff

    static func word(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    /// `key`: 32 bytes, r then s; r is clamped as the RFC says.
    public init(key: [UInt8]) {
        precondition(key.count == 32, "a Poly1305 key is 32 bytes")
        (r0, r1, r2, r3, r4, pad) = key.withUnsafeBytes { bytes in
            let t0 = UInt64(Poly1305.word(bytes, 0)), t1 = UInt64(Poly1305.word(bytes, 4))
            let t2 = UInt64(Poly1305.word(bytes, 8)), t3 = UInt64(Poly1305.word(bytes, 12))
            // The clamp (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) folded into the limb masks.
            return (t0 & 0x3ff_ffff, (t0 >> 26 | t1 << 6) & 0x3ff_ff03, (t1 >> 20 | t2 << 12) & 0x3ff_c0ff,
                    (t2 >> 14 | t3 << 18) & 0x3f0_3fff, (t3 >> 8) & 0x00f_ffff,
                    (Poly1305.word(bytes, 16), Poly1305.word(bytes, 20), Poly1305.word(bytes, 24), Poly1305.word(bytes, 28)))
        }
        s1 = r1 * 5; s2 = r2 * 5; s3 = r3 * 5; s4 = r4 * 5
    }

    /// Adds `bytes` to what is authenticated.
    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        if pendingCount > 0 {
            while pendingCount < 16 && index < bytes.endIndex { pending[pendingCount] = bytes[index]; pendingCount += 1; index += 1 }
            guard pendingCount == 16 else { return }
            let block = pending
            block.withUnsafeBytes { absorb($0, highBit: 1 << 24) }
            pendingCount = 0
        }
        bytes.withUnsafeBytes { all in
            var offset = index - bytes.startIndex
            while all.count - offset >= 16 {
                absorb(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + 16)]), highBit: 1 << 24)
                offset += 16
            }
            while offset < all.count { pending[pendingCount] = all[offset]; pendingCount += 1; offset += 1 }
        }
    }

    public mutating func update(_ bytes: [UInt8]) { update(bytes[...]) }

    /// h = (h + block) * r mod 2^130 - 5, partially reduced. `highBit` is
    /// the 2^128 bit of a full block (a short last block carries its own 1).
    mutating func absorb(_ block: UnsafeRawBufferPointer, highBit: UInt64) {
        let t0 = UInt64(Poly1305.word(block, 0)), t1 = UInt64(Poly1305.word(block, 4))
        let t2 = UInt64(Poly1305.word(block, 8)), t3 = UInt64(Poly1305.word(block, 12))
        h0 += t0 & Poly1305.limb
        h1 += (t0 >> 26 | t1 << 6) & Poly1305.limb
        h2 += (t1 >> 20 | t2 << 12) & Poly1305.limb
        h3 += (t2 >> 14 | t3 << 18) & Poly1305.limb
        h4 += t3 >> 8 | highBit
        let d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1
        var d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2
        var d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3
        var d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4
        var d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0
        h0 = d0 & Poly1305.limb; d1 += d0 >> 26
        h1 = d1 & Poly1305.limb; d2 += d1 >> 26
        h2 = d2 & Poly1305.limb; d3 += d2 >> 26
        h3 = d3 & Poly1305.limb; d4 += d3 >> 26
        h4 = d4 & Poly1305.limb
        h0 += (d4 >> 26) * 5
        h1 += h0 >> 26; h0 &= Poly1305.limb
    }

    /// The 16-byte tag; the authenticator is spent afterwards.
    public mutating func finish() -> [UInt8] {
        if pendingCount > 0 {
            var block = [UInt8](repeating: 0, count: 16)
            for index in 0..<pendingCount { block[index] = pending[index] }
            block[pendingCount] = 1
            block.withUnsafeBytes { absorb($0, highBit: 0) }
        }
        // Carry fully, then subtract p = 2^130 - 5 if h >= p, chosen by a mask.
        h2 += h1 >> 26; h1 &= Poly1305.limb
        h3 += h2 >> 26; h2 &= Poly1305.limb
        h4 += h3 >> 26; h3 &= Poly1305.limb
        h0 += (h4 >> 26) * 5; h4 &= Poly1305.limb
        h1 += h0 >> 26; h0 &= Poly1305.limb
        var g0 = h0 + 5, g1 = h1 + (g0 >> 26); g0 &= Poly1305.limb
        var g2 = h2 + (g1 >> 26); g1 &= Poly1305.limb
        var g3 = h3 + (g2 >> 26); g2 &= Poly1305.limb
        var g4 = h4 &+ (g3 >> 26) &- (1 << 26); g3 &= Poly1305.limb
        // g4's top bit is set when h + 5 < 2^130, that is h < p: keep h then.
        let useG = (g4 >> 63) &- 1
        g0 &= useG; g1 &= useG; g2 &= useG; g3 &= useG; g4 &= useG
        let useH = ~useG
        let f0 = h0 & useH | g0, f1 = h1 & useH | g1, f2 = h2 & useH | g2, f3 = h3 & useH | g3, f4 = h4 & useH | g4
        // h mod 2^128 as four 32-bit words, plus s with carries.
        let w0 = (f0 | f1 << 26) & 0xffff_ffff, w1 = (f1 >> 6 | f2 << 20) & 0xffff_ffff
        let w2 = (f2 >> 12 | f3 << 14) & 0xffff_ffff, w3 = (f3 >> 18 | f4 << 8) & 0xffff_ffff
        var tag: [UInt8] = []
        tag.reserveCapacity(16)
        var carry: UInt64 = 0
        for (word, padWord) in [(w0, pad.0), (w1, pad.1), (w2, pad.2), (w3, pad.3)] {
            let sum = word + UInt64(padWord) + carry
            for shift in stride(from: 0, to: 32, by: 8) { tag.append(UInt8(truncatingIfNeeded: sum >> UInt64(shift))) }
            carry = sum >> 32
        }
        return tag
    }

    /// The tag of `message` under the one-time `key`.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var poly = Poly1305(key: key)
        poly.update(message)
        return poly.finish()
    }
}
