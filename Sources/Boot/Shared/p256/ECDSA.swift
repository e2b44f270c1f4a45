/// ECDSA on P-256 with SHA-256 (FIPS 186-4; TLS's ecdsa_secp256r1_sha256),
/// signatures DER-encoded as TLS and X.509 carry them.
///
/// Signing takes its nonce k from RFC 6979 (HMAC-DRBG over the key and the
/// message's hash), so no random value can leak the key; k's inverse is a
/// fixed exponentiation and its products are Montgomery multiplications,
/// all constant time. Verification handles public values only.
public enum ECDSAP256 {
    /// The DER signature (SEQUENCE of INTEGERs r and s) of `message`'s SHA-256.
    public static func signature(for message: [UInt8], privateKey: [UInt8]) -> [UInt8] {
        precondition(P256.isValidPrivateKey(privateKey), "a P-256 private key is a scalar from 1 to n - 1")
        let order = P256.order
        let digest = SHA256.hash(message)
        let hash = order.reduceOnce(Modulus256.limbs(bigEndian: digest))
        let key = Modulus256.limbs(bigEndian: privateKey)
        while true {
            let k = nonce(key: privateKey, hash: Modulus256.bigEndianBytes(hash))
            guard let point = P256.generatorTimes(k).affine else { continue }
            let r = order.reduceOnce(point.x)
            guard !Modulus256.isZero(r) else { continue }
            // s = k^-1 (h + r d) mod n, in Montgomery form until the end.
            let kInverse = order.inverse(order.toMontgomery(k))
            let rd = order.multiply(order.toMontgomery(r), order.toMontgomery(key))
            let sum = order.add(order.toMontgomery(hash), rd)
            let s = order.fromMontgomery(order.multiply(kInverse, sum))
            guard !Modulus256.isZero(s) else { continue }
            return der(r: Modulus256.bigEndianBytes(r), s: Modulus256.bigEndianBytes(s))
        }
    }

    /// Whether `signature` (DER) is the public key's (uncompressed point) over `message`.
    public static func isValidSignature(_ signature: [UInt8], for message: [UInt8], publicKey: [UInt8]) -> Bool {
        isValidSignature(signature, digest: SHA256.hash(message), publicKey: publicKey)
    }

    /// The same over a digest of any hash: its leftmost 256 bits are used
    /// (SEC 1 4.1.4), as a certificate signed with ecdsa-with-SHA384 by a P-256 key needs.
    public static func isValidSignature(_ signature: [UInt8], digest: [UInt8], publicKey: [UInt8]) -> Bool {
        guard digest.count >= 32, let (rBytes, sBytes) = parseDER(signature), let q = P256Point(uncompressed: publicKey) else { return false }
        let order = P256.order
        let r = Modulus256.limbs(bigEndian: rBytes), s = Modulus256.limbs(bigEndian: sBytes)
        guard order.contains(r), order.contains(s), !Modulus256.isZero(r), !Modulus256.isZero(s) else { return false }
        let hash = order.reduceOnce(Modulus256.limbs(bigEndian: Array(digest.prefix(32))))
        let w = order.inverse(order.toMontgomery(s))
        let u1 = order.fromMontgomery(order.multiply(w, order.toMontgomery(hash)))
        let u2 = order.fromMontgomery(order.multiply(w, order.toMontgomery(r)))
        guard let point = (P256.generatorTimes(u1) + q.multiplied(by: u2)).affine else { return false }
        return Modulus256.bigEndianBytes(order.reduceOnce(point.x)) == rBytes
    }

    /// RFC 6979 section 3.2's k for a 256-bit order and SHA-256: HMAC-DRBG
    /// seeded with the key and the hash (already reduced modulo n).
    static func nonce(key: [UInt8], hash: [UInt8]) -> Limbs256 {
        var v = [UInt8](repeating: 1, count: 32), k = [UInt8](repeating: 0, count: 32)
        k = HMAC<SHA256>.authenticationCode(for: v + [0] + key + hash, key: k)
        v = HMAC<SHA256>.authenticationCode(for: v, key: k)
        k = HMAC<SHA256>.authenticationCode(for: v + [1] + key + hash, key: k)
        v = HMAC<SHA256>.authenticationCode(for: v, key: k)
        while true {
            v = HMAC<SHA256>.authenticationCode(for: v, key: k)
            let candidate = Modulus256.limbs(bigEndian: v)
            if P256.order.contains(candidate) && !Modulus256.isZero(candidate) { return candidate }
            k = HMAC<SHA256>.authenticationCode(for: v + [0], key: k)
            v = HMAC<SHA256>.authenticationCode(for: v, key: k)
        }
    }

    /// SEQUENCE { INTEGER r, INTEGER s }, each minimal and positive.
    static func der(r: [UInt8], s: [UInt8]) -> [UInt8] {
        func integer(_ value: [UInt8]) -> [UInt8] {
            var digits = Array(value.drop { $0 == 0 })
            if digits.isEmpty || digits[0] & 0x80 != 0 { digits.insert(0, at: 0) }
            return [0x02, UInt8(digits.count)] + digits
        }
        let body = integer(r) + integer(s)
        return [0x30, UInt8(body.count)] + body
    }

    /// r and s from strict DER: short lengths, minimal positive integers of
    /// at most `size` significant bytes (the order's: 32 here, 48 for
    /// P-384), each padded to `size`, nothing after.
    static func parseDER(_ der: [UInt8], size: Int = 32) -> ([UInt8], [UInt8])? {
        guard der.count >= 8, der[0] == 0x30, Int(der[1]) == der.count - 2, der[1] < 0x80 else { return nil }
        var offset = 2
        func integer() -> [UInt8]? {
            guard offset + 2 <= der.count, der[offset] == 0x02, der[offset + 1] < 0x80 else { return nil }
            let length = Int(der[offset + 1])
            guard length >= 1, offset + 2 + length <= der.count else { return nil }
            let bytes = Array(der[(offset + 2)..<(offset + 2 + length)])
            offset += 2 + length
            guard bytes[0] & 0x80 == 0 else { return nil }                              // negative
            guard bytes.count == 1 || bytes[0] != 0 || bytes[1] & 0x80 != 0 else { return nil }  // not minimal
            let significant = bytes.first == 0 ? Array(bytes.dropFirst()) : bytes
            guard significant.count <= size else { return nil }
            return [UInt8](repeating: 0, count: size - significant.count) + significant
        }
        guard let r = integer(), let s = integer(), offset == der.count else { return nil }
        return (r, s)
    }
}
