/// HMAC (RFC 2104) and HKDF (RFC 5869), with TLS 1.3's HKDF-Expand-Label
/// and Derive-Secret (RFC 8446 7.1), over any `HashFunction`.
///
/// Constant time: the key is padded or hashed by its length (public) and
/// XORed a byte at a time; tags are compared with `constantTimeEqual`
/// (Boot/Core/Bytes.swift), so a forger learns nothing from how long a check took.
public struct HMAC<Hash: HashFunction> {
    var inner = Hash()
    var outerKey: [UInt8]

    public init(key: [UInt8]) {
        var block = key.count > Hash.blockSize ? Hash.hash(key) : key
        block += [UInt8](repeating: 0, count: Hash.blockSize - block.count)
        inner.update(block.map { $0 ^ 0x36 })
        outerKey = block.map { $0 ^ 0x5c }
    }

    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }
    public mutating func update(_ bytes: ArraySlice<UInt8>) { inner.update(bytes) }

    /// The tag of everything added; the HMAC is spent afterwards.
    public mutating func finish() -> [UInt8] {
        var outer = Hash()
        outer.update(outerKey)
        outer.update(inner.finish())
        return outer.finish()
    }

    /// The tag of `message` under `key`.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var hmac = HMAC(key: key)
        hmac.update(message)
        return hmac.finish()
    }
}

public enum HKDF<Hash: HashFunction> {
    /// HKDF-Extract: a pseudorandom key from `salt` (a hash's length of zeros when empty) and `inputKey`.
    public static func extract(salt: [UInt8], inputKey: [UInt8]) -> [UInt8] {
        HMAC<Hash>.authenticationCode(for: inputKey, key: salt.isEmpty ? [UInt8](repeating: 0, count: Hash.digestSize) : salt)
    }

    /// HKDF-Expand: `length` bytes (at most 255 digests) from `pseudorandomKey` and `info`.
    public static func expand(pseudorandomKey: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length >= 0 && length <= 255 * Hash.digestSize, "HKDF-Expand asked for more than 255 blocks")
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            var hmac = HMAC<Hash>(key: pseudorandomKey)
            hmac.update(previous)
            hmac.update(info)
            hmac.update([counter])
            previous = hmac.finish()
            output += previous.prefix(length - output.count)
            counter &+= 1
        }
        return output
    }

    /// TLS 1.3's HKDF-Expand-Label: the info is the length, "tls13 " + `label` and `context`, each length-prefixed.
    public static func expandLabel(secret: [UInt8], label: String, context: [UInt8], length: Int) -> [UInt8] {
        let fullLabel = Array("tls13 ".utf8) + Array(label.utf8)
        precondition(fullLabel.count <= 255 && context.count <= 255 && length <= 0xFFFF, "an HKDF label field too long")
        var info: [UInt8] = [UInt8(length >> 8), UInt8(truncatingIfNeeded: length), UInt8(fullLabel.count)]
        info += fullLabel
        info.append(UInt8(context.count))
        info += context
        return expand(pseudorandomKey: secret, info: info, length: length)
    }

    /// TLS 1.3's Derive-Secret: Expand-Label of the transcript's hash `transcriptHash`, a digest long.
    public static func deriveSecret(_ secret: [UInt8], label: String, transcriptHash: [UInt8]) -> [UInt8] {
        expandLabel(secret: secret, label: label, context: transcriptHash, length: Hash.digestSize)
    }
}
