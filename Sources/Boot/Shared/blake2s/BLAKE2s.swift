/// BLAKE2s-256 (RFC 7693), unkeyed: the hash that accumulates entropy in
/// the input pool, as in Linux's random.c. Pure Swift, host-tested.
public struct BLAKE2s {
    static let iv: [UInt32] = [
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19,
    ]
    static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    var h: [UInt32]
    var buffer: [UInt8] = []
    var byteCount: UInt64 = 0

    /// A fresh hash with a 32-byte digest.
    public init() {
        h = BLAKE2s.iv
        h[0] ^= 0x0101_0020   // digest length 32, no key, fanout and depth 1
    }

    /// Adds `bytes` to the hash.
    public mutating func update(_ bytes: [UInt8]) {
        for byte in bytes {
            // Compress a full block only when more input follows: the last
            // block is compressed by finalize() with the final flag.
            if buffer.count == 64 {
                byteCount &+= 64
                compress(buffer, final: false)
                buffer.removeAll(keepingCapacity: true)
            }
            buffer.append(byte)
        }
    }

    /// The 32-byte digest; the hash itself is left unchanged.
    public func finalize() -> [UInt8] {
        var copy = self
        copy.byteCount &+= UInt64(copy.buffer.count)
        let block = copy.buffer + [UInt8](repeating: 0, count: 64 - copy.buffer.count)
        copy.compress(block, final: true)
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in copy.h {
            for shift in stride(from: 0, to: 32, by: 8) { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return digest
    }

    /// BLAKE2s of `bytes` in one call.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hash = BLAKE2s()
        hash.update(bytes)
        return hash.finalize()
    }

    /// The mixing function G on four words, as values (see ChaCha20.quarterRound).
    @inline(__always)
    static func mix(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ y: UInt32)
        -> (UInt32, UInt32, UInt32, UInt32) {
        var a = a, b = b, c = c, d = d
        a = a &+ b &+ x; d ^= a; d = d >> 16 | d << 16
        c = c &+ d;      b ^= c; b = b >> 12 | b << 20
        a = a &+ b &+ y; d ^= a; d = d >> 8 | d << 24
        c = c &+ d;      b ^= c; b = b >> 7 | b << 25
        return (a, b, c, d)
    }

    mutating func compress(_ block: [UInt8], final: Bool) {
        let m = littleEndianWords(block)
        var v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7]
        var v8 = BLAKE2s.iv[0], v9 = BLAKE2s.iv[1], v10 = BLAKE2s.iv[2], v11 = BLAKE2s.iv[3]
        var v12 = BLAKE2s.iv[4] ^ UInt32(truncatingIfNeeded: byteCount)
        var v13 = BLAKE2s.iv[5] ^ UInt32(truncatingIfNeeded: byteCount >> 32)
        var v14 = final ? ~BLAKE2s.iv[6] : BLAKE2s.iv[6]
        var v15 = BLAKE2s.iv[7]
        for round in 0..<10 {
            let s = BLAKE2s.sigma[round]
            (v0, v4, v8, v12) = BLAKE2s.mix(v0, v4, v8, v12, m[s[0]], m[s[1]])
            (v1, v5, v9, v13) = BLAKE2s.mix(v1, v5, v9, v13, m[s[2]], m[s[3]])
            (v2, v6, v10, v14) = BLAKE2s.mix(v2, v6, v10, v14, m[s[4]], m[s[5]])
            (v3, v7, v11, v15) = BLAKE2s.mix(v3, v7, v11, v15, m[s[6]], m[s[7]])
            (v0, v5, v10, v15) = BLAKE2s.mix(v0, v5, v10, v15, m[s[8]], m[s[9]])
            (v1, v6, v11, v12) = BLAKE2s.mix(v1, v6, v11, v12, m[s[10]], m[s[11]])
            (v2, v7, v8, v13) = BLAKE2s.mix(v2, v7, v8, v13, m[s[12]], m[s[13]])
            (v3, v4, v9, v14) = BLAKE2s.mix(v3, v4, v9, v14, m[s[14]], m[s[15]])
        }
        h[0] ^= v0 ^ v8; h[1] ^= v1 ^ v9; h[2] ^= v2 ^ v10; h[3] ^= v3 ^ v11
        h[4] ^= v4 ^ v12; h[5] ^= v5 ^ v13; h[6] ^= v6 ^ v14; h[7] ^= v7 ^ v15
    }
}
