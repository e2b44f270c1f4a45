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
        let base = n.toMontgomery(s)
        var result = base
        // Left to right over the exponent's bits after the top one.
        var bits: [Bool] = []
        for byte in exponent { for shift in (0..<8).reversed() { bits.append(byte >> UInt8(shift) & 1 == 1) } }
        let top = bits.firstIndex(of: true)!
        for bit in bits[(top + 1)...] {
            result = n.multiply(result, result)
            if bit { result = n.multiply(result, base) }
        }
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
