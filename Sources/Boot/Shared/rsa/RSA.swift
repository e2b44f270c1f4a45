/// RSA public-key operations for signature verification (RFC 8017 sections
/// 8.1.2 and 8.2.2): PKCS#1 v1.5 and PSS over SHA-256, SHA-384 or SHA-512.
///
/// Only public values pass through here (the key, the signature, the
/// message), so nothing needs constant time; the arithmetic is Montgomery
/// multiplication on 32-bit limbs, little-endian, for moduli of 2048 to 4096
/// bits (smaller keys are refused, as the CA/Browser Forum does).
public struct RSAPublicKey: Equatable {
    /// The modulus, big-endian, without leading zeros.
    public let modulus: [UInt8]
    public let exponent: [UInt8]

    /// A key with a modulus of 2048 to 4096 bits and an odd exponent of 3 to 2^32 - 1.
    public init?(modulus: [UInt8], exponent: [UInt8]) {
        let n = Array(modulus.drop { $0 == 0 }), e = Array(exponent.drop { $0 == 0 })
        guard n.count >= 256, n.count <= 512, n.last! & 1 == 1, !e.isEmpty, e.count <= 4, e.last! & 1 == 1, e != [1] else { return nil }
        self.modulus = n
        self.exponent = e
    }

    /// signature^e mod n, as many bytes as the modulus; nil when the
    /// signature is not a number below the modulus of the modulus' length.
    func encryptedMessage(_ signature: [UInt8]) -> [UInt8]? {
        guard signature.count == modulus.count else { return nil }
        let n = MontgomeryModulus(bigEndian: modulus)
        let s = MontgomeryModulus.limbs(bigEndian: signature, count: n.count)
        guard MontgomeryModulus.compare(s, n.limbs) < 0 else { return nil }
        let result = n.power(n.toMontgomery(s), exponent: MontgomeryModulus.limbs(bigEndian: exponent, count: (exponent.count + 3) / 4))
        return MontgomeryModulus.bigEndianBytes(n.fromMontgomery(result), count: modulus.count)
    }
}

/// The hash a signature was made over.
public enum RSAHash {
    case sha256, sha384, sha512

    func digest(_ message: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: return SHA256.hash(message)
        case .sha384: return SHA384.hash(message)
        case .sha512: return SHA512.hash(message)
        }
    }

    var size: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    /// DigestInfo's DER before the digest (RFC 8017 section 9.2, note 1).
    var digestInfoPrefix: [UInt8] {
        switch self {
        case .sha256: return [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        case .sha384: return [0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]
        case .sha512: return [0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]
        }
    }
}

public enum RSA {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 8.2.2): the whole encoded message is
    /// rebuilt and compared, never parsed (Bleichenbacher's 2006 forgery
    /// lived in parsers that skipped what followed the digest).
    public static func isValidPKCS1Signature(_ signature: [UInt8], for message: [UInt8], hash: RSAHash, publicKey: RSAPublicKey) -> Bool {
        guard let encoded = publicKey.encryptedMessage(signature) else { return false }
        let suffix = hash.digestInfoPrefix + hash.digest(message)
        guard encoded.count >= suffix.count + 11 else { return false }
        let expected = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: encoded.count - suffix.count - 3) + [0x00] + suffix
        return encoded == expected
    }

    /// RSASSA-PSS (RFC 8017 8.1.2, EMSA-PSS-VERIFY in 9.1.2) with MGF1 over
    /// the same hash and a salt of `saltLength` bytes (TLS 1.3 uses the
    /// hash's length; a certificate's parameters name theirs).
    public static func isValidPSSSignature(_ signature: [UInt8], for message: [UInt8], hash: RSAHash, saltLength: Int,
                                           publicKey: RSAPublicKey) -> Bool {
        guard let encrypted = publicKey.encryptedMessage(signature) else { return false }
        let modulusBits = bitLength(publicKey.modulus)
        let emBits = modulusBits - 1
        let emLength = (emBits + 7) / 8
        // With emBits a multiple of 8 the encrypted message has one more leading zero byte.
        guard encrypted.count - emLength <= 1, encrypted.prefix(encrypted.count - emLength).allSatisfy({ $0 == 0 }) else { return false }
        let encoded = Array(encrypted.suffix(emLength))
        let hashLength = hash.size
        guard saltLength >= 0, emLength >= hashLength + saltLength + 2, encoded.last == 0xBC else { return false }
        let maskedDB = Array(encoded[0..<(emLength - hashLength - 1)])
        let h = Array(encoded[(emLength - hashLength - 1)..<(emLength - 1)])
        let unusedBits = 8 * emLength - emBits
        let topMask: UInt8 = unusedBits == 0 ? 0 : ~(0xFF >> UInt8(unusedBits))
        guard maskedDB[0] & topMask == 0 else { return false }
        var db = mgf1(seed: h, length: maskedDB.count, hash: hash)
        for index in db.indices { db[index] ^= maskedDB[index] }
        db[0] &= ~topMask
        let padding = emLength - hashLength - saltLength - 2
        guard db[0..<padding].allSatisfy({ $0 == 0 }), db[padding] == 0x01 else { return false }
        let salt = Array(db[(padding + 1)...])
        let mHash = hash.digest(message)
        return hash.digest([UInt8](repeating: 0, count: 8) + mHash + salt) == h
    }

    /// MGF1 (RFC 8017 B.2.1).
    static func mgf1(seed: [UInt8], length: Int, hash: RSAHash) -> [UInt8] {
        var output: [UInt8] = []
        var counter: UInt32 = 0
        while output.count < length {
            output += hash.digest(seed + [UInt8(counter >> 24), UInt8(counter >> 16 & 0xFF), UInt8(counter >> 8 & 0xFF), UInt8(counter & 0xFF)])
            counter += 1
        }
        return Array(output.prefix(length))
    }

    static func bitLength(_ bigEndian: [UInt8]) -> Int {
        guard let first = bigEndian.first(where: { $0 != 0 }), let index = bigEndian.firstIndex(of: first) else { return 0 }
        return (bigEndian.count - index - 1) * 8 + (8 - first.leadingZeroBitCount)
    }
}
