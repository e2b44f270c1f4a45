/// The ChaCha20 block function of RFC 8439, section 2.3: 20 rounds over a
/// 256-bit key, a 32-bit block counter and a 96-bit nonce. Pure Swift, so
/// the host tests check it against the RFC's vectors.
public enum ChaCha20 {
    /// "expand 32-byte k", little-endian.
    static let constants: (UInt32, UInt32, UInt32, UInt32) = (0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574)

    /// The quarter round on four words, as values: scalar code that the
    /// optimizer handles quickly (an inout array made one build take 12 s).
    @inline(__always)
    static func quarterRound(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var a = a, b = b, c = c, d = d
        a &+= b; d ^= a; d = d << 16 | d >> 16
        c &+= d; b ^= c; b = b << 12 | b >> 20
        a &+= b; d ^= a; d = d << 8 | d >> 24
        c &+= d; b ^= c; b = b << 7 | b >> 25
        return (a, b, c, d)
    }

    /// One 64-byte keystream block. `key` is 8 words, `nonce` 3 words, both
    /// read little-endian from their byte form as the RFC specifies.
    public static func block(key: [UInt32], counter: UInt32, nonce: [UInt32]) -> [UInt8] {
        precondition(key.count == 8 && nonce.count == 3)
        let initial: [UInt32] = [constants.0, constants.1, constants.2, constants.3] + key + [counter] + nonce
        var x0 = initial[0], x1 = initial[1], x2 = initial[2], x3 = initial[3]
        var x4 = initial[4], x5 = initial[5], x6 = initial[6], x7 = initial[7]
        var x8 = initial[8], x9 = initial[9], x10 = initial[10], x11 = initial[11]
        var x12 = initial[12], x13 = initial[13], x14 = initial[14], x15 = initial[15]
        for _ in 0..<10 {
            (x0, x4, x8, x12) = quarterRound(x0, x4, x8, x12)      // columns
            (x1, x5, x9, x13) = quarterRound(x1, x5, x9, x13)
            (x2, x6, x10, x14) = quarterRound(x2, x6, x10, x14)
            (x3, x7, x11, x15) = quarterRound(x3, x7, x11, x15)
            (x0, x5, x10, x15) = quarterRound(x0, x5, x10, x15)    // diagonals
            (x1, x6, x11, x12) = quarterRound(x1, x6, x11, x12)
            (x2, x7, x8, x13) = quarterRound(x2, x7, x8, x13)
            (x3, x4, x9, x14) = quarterRound(x3, x4, x9, x14)
        }
        let state = [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15]
        var output = [UInt8](repeating: 0, count: 64)
        for index in 0..<16 {
            let word = state[index] &+ initial[index]
            output[index * 4] = UInt8(truncatingIfNeeded: word)
            output[index * 4 + 1] = UInt8(truncatingIfNeeded: word >> 8)
            output[index * 4 + 2] = UInt8(truncatingIfNeeded: word >> 16)
            output[index * 4 + 3] = UInt8(truncatingIfNeeded: word >> 24)
        }
        return output
    }

    /// Encrypts (or decrypts) `message` with the keystream from `counter` on
    /// (RFC 8439, section 2.4).
    public static func xor(_ message: [UInt8], key: [UInt32], counter: UInt32, nonce: [UInt32]) -> [UInt8] {
        var output = message
        var offset = 0
        var blockCounter = counter
        while offset < message.count {
            let stream = block(key: key, counter: blockCounter, nonce: nonce)
            for index in 0..<min(64, message.count - offset) { output[offset + index] ^= stream[index] }
            offset += 64
            blockCounter &+= 1
        }
        return output
    }
}
