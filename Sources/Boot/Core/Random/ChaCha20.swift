/// The ChaCha20 block function of RFC 8439, section 2.3: 20 rounds over a
/// 256-bit key, a 32-bit block counter and a 96-bit nonce. Pure Swift, so
/// the host tests check it against the RFC's vectors.
public enum ChaCha20 {
    /// "expand 32-byte k", little-endian.
    static let constants: (UInt32, UInt32, UInt32, UInt32) = (0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574)

    @inline(__always)
    static func quarterRound(_ s: inout [UInt32], _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        s[a] &+= s[b]; s[d] ^= s[a]; s[d] = s[d] << 16 | s[d] >> 16
        s[c] &+= s[d]; s[b] ^= s[c]; s[b] = s[b] << 12 | s[b] >> 20
        s[a] &+= s[b]; s[d] ^= s[a]; s[d] = s[d] << 8 | s[d] >> 24
        s[c] &+= s[d]; s[b] ^= s[c]; s[b] = s[b] << 7 | s[b] >> 25
    }

    /// One 64-byte keystream block. `key` is 8 words, `nonce` 3 words, both
    /// read little-endian from their byte form as the RFC specifies.
    public static func block(key: [UInt32], counter: UInt32, nonce: [UInt32]) -> [UInt8] {
        precondition(key.count == 8 && nonce.count == 3)
        let initial: [UInt32] = [constants.0, constants.1, constants.2, constants.3] + key + [counter] + nonce
        var state = initial
        for _ in 0..<10 {
            quarterRound(&state, 0, 4, 8, 12)
            quarterRound(&state, 1, 5, 9, 13)
            quarterRound(&state, 2, 6, 10, 14)
            quarterRound(&state, 3, 7, 11, 15)
            quarterRound(&state, 0, 5, 10, 15)
            quarterRound(&state, 1, 6, 11, 12)
            quarterRound(&state, 2, 7, 8, 13)
            quarterRound(&state, 3, 4, 9, 14)
        }
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

    /// Little-endian words from bytes (a key or nonce as the RFC prints it).
    public static func words(_ bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count - 3, by: 4).map { (index: Int) -> UInt32 in
            let b0 = UInt32(bytes[index]), b1 = UInt32(bytes[index + 1])
            let b2 = UInt32(bytes[index + 2]), b3 = UInt32(bytes[index + 3])
            return b0 | b1 << 8 | b2 << 16 | b3 << 24
        }
    }
}
