/// PEM (RFC 7468): the base64 text form of certificates and keys, as
/// openssl writes them, and the PKCS#8 form (RFC 8410) of Ed25519 private keys.
public enum PEM {
    /// The DER of each block labelled `label` ("CERTIFICATE", "PRIVATE
    /// KEY") in `text`, in order; nil if a block is not valid base64 or not
    /// ended. Text outside the blocks is ignored, as RFC 7468 allows.
    public static func blocks(_ label: String, in text: [UInt8]) -> [[UInt8]]? {
        let begin = Array("-----BEGIN \(label)-----".utf8), end = Array("-----END \(label)-----".utf8)
        var blocks: [[UInt8]] = []
        var offset = 0
        while let start = firstIndex(of: begin, in: text, from: offset) {
            guard let stop = firstIndex(of: end, in: text, from: start + begin.count),
                  let der = base64Decoded(text[(start + begin.count)..<stop]) else { return nil }
            blocks.append(der)
            offset = stop + end.count
        }
        return blocks
    }

    /// The 32-byte private key of a PKCS#8 Ed25519 key (RFC 8410 section 7:
    /// version 0, the algorithm 1.3.101.112, the key as an octet string in
    /// an octet string); nil for any other key.
    public static func ed25519PrivateKey(pkcs8 der: [UInt8]) -> [UInt8]? {
        let prefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        guard der.count == prefix.count + 32, Array(der.prefix(prefix.count)) == prefix else { return nil }
        return Array(der.suffix(32))
    }

    /// The 32-byte private scalar of a PKCS#8 P-256 key (RFC 5208 around
    /// SEC 1's ECPrivateKey): version 0, the algorithm id-ecPublicKey with
    /// the curve prime256v1, then the ECPrivateKey; nil for any other key.
    public static func p256PrivateKey(pkcs8 der: [UInt8]) -> [UInt8]? {
        let algorithm: [UInt8] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] + prime256v1   // id-ecPublicKey
        var outer = DERReader(der)
        guard var info = outer.element(tag: 0x30), outer.isAtEnd,
              info.element(tag: 0x02)?.contents == [0],
              info.element(tag: 0x30)?.contents == algorithm,
              let wrapped = info.element(tag: 0x04), info.isAtEnd else { return nil }
        return p256PrivateKey(sec1: wrapped.contents)
    }

    /// The 32-byte private scalar of SEC 1's ECPrivateKey (RFC 5915; PEM's
    /// "EC PRIVATE KEY"): version 1, the key, and if it names its curve, prime256v1.
    public static func p256PrivateKey(sec1 der: [UInt8]) -> [UInt8]? {
        var outer = DERReader(der)
        guard var key = outer.element(tag: 0x30), outer.isAtEnd, key.element(tag: 0x02)?.contents == [1],
              let scalar = key.element(tag: 0x04)?.contents, scalar.count == 32, P256.isValidPrivateKey(scalar) else { return nil }
        if let parameters = key.element(tag: 0xa0), parameters.contents != prime256v1 { return nil }
        return scalar
    }

    /// The object identifier 1.2.840.10045.3.1.7, P-256's name in DER.
    static let prime256v1: [UInt8] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]

    /// Base64 (RFC 4648) with whitespace between the characters; nil for any
    /// other character, a bad length or padding anywhere but at the end.
    static func base64Decoded(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0, padding = 0
        for character in text {
            let value: UInt32
            switch character {
            case 0x41...0x5a: value = UInt32(character - 0x41)          // A-Z
            case 0x61...0x7a: value = UInt32(character - 0x61 + 26)     // a-z
            case 0x30...0x39: value = UInt32(character - 0x30 + 52)     // 0-9
            case 0x2b: value = 62                                       // +
            case 0x2f: value = 63                                       // /
            case 0x3d: padding += 1; continue                           // =
            case 0x20, 0x09, 0x0d, 0x0a: continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // What is left over must be the zero bits of a final partial group, matched by its padding.
        guard padding <= 2, bits == [0, 2, 4][padding], accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
