/// The AEAD ChaCha20-Poly1305 (RFC 8439 2.8): a 32-byte key, a 12-byte
/// nonce (never used twice with one key), a 16-byte tag over the
/// additional data and the ciphertext.
///
/// Constant time: ChaCha20 and Poly1305 are; `open` compares the tag with
/// `constantTimeEqual` and decrypts nothing unless it matches.
public enum ChaCha20Poly1305 {
    public static let keySize = 32, nonceSize = 12, tagSize = 16

    /// The ciphertext of `plaintext` followed by its tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], additionalData: [UInt8]) -> [UInt8] {
        precondition(key.count == keySize && nonce.count == nonceSize, "ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce")
        let (keyWords, nonceWords) = words(key: key, nonce: nonce)
        let ciphertext = ChaCha20.xor(plaintext, key: keyWords, counter: 1, nonce: nonceWords)
        return ciphertext + tag(ciphertext[...], additionalData: additionalData, key: keyWords, nonce: nonceWords)
    }

    /// The plaintext of `sealed` (ciphertext and tag); nil if the tag does
    /// not match, or the key or nonce has the wrong size.
    public static func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8], additionalData: [UInt8]) -> [UInt8]? {
        guard sealed.count >= tagSize, key.count == keySize, nonce.count == nonceSize else { return nil }
        let (keyWords, nonceWords) = words(key: key, nonce: nonce)
        let ciphertext = sealed[..<(sealed.count - tagSize)]
        let expected = tag(ciphertext, additionalData: additionalData, key: keyWords, nonce: nonceWords)
        guard constantTimeEqual(expected, Array(sealed[(sealed.count - tagSize)...])) else { return nil }
        return ChaCha20.xor(Array(ciphertext), key: keyWords, counter: 1, nonce: nonceWords)
    }

    static func words(key: [UInt8], nonce: [UInt8]) -> ([UInt32], [UInt32]) { (littleEndianWords(key), littleEndianWords(nonce)) }

    /// Poly1305 keyed by the first half of block 0, over the additional data
    /// and the ciphertext (each padded to 16 bytes) and their lengths.
    static func tag(_ ciphertext: ArraySlice<UInt8>, additionalData: [UInt8], key: [UInt32], nonce: [UInt32]) -> [UInt8] {
        var poly = Poly1305(key: Array(ChaCha20.block(key: key, counter: 0, nonce: nonce).prefix(32)))
        let zeros = [UInt8](repeating: 0, count: 16)
        poly.update(additionalData)
        poly.update(zeros[..<((16 - additionalData.count % 16) % 16)])
        poly.update(ciphertext)
        poly.update(zeros[..<((16 - ciphertext.count % 16) % 16)])
        var lengths: [UInt8] = []
        for length in [UInt64(additionalData.count), UInt64(ciphertext.count)] {
            for shift in stride(from: 0, to: 64, by: 8) { lengths.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        }
        poly.update(lengths)
        return poly.finish()
    }
}
