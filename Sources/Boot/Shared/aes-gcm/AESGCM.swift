/// The AEAD AES-GCM (NIST SP 800-38D) with a 16-byte tag: counter-mode AES
/// and the GHASH authenticator. A value holds one key's expanded schedule and
/// hash key, so that a TLS connection expands its keys once.
///
/// Constant time: AES is bit-sliced (see AES); GHASH multiplies in GF(2^128)
/// bit by bit, adding each shifted multiple through a mask rather than a
/// branch, and looks nothing up in a table (a table of multiples of the hash
/// key, indexed by the running product, would leak the product through the
/// cache). `open` compares the tag with `constantTimeEqual` and decrypts
/// nothing unless it matches.
public struct AESGCM {
    public static let tagSize = 16

    let cipher: AES
    /// The hash key H = AES(key, 0^128), big-endian halves.
    let hashKey: (high: UInt64, low: UInt64)

    /// A 16- or 32-byte key for TLS (24 bytes is AES-192, also accepted).
    public init(key: [UInt8]) {
        cipher = AES(key: key)
        let h = cipher.encrypt(block: [UInt8](repeating: 0, count: 16))
        hashKey = (Self.bigEndian(h, 0), Self.bigEndian(h, 8))
    }

    /// The ciphertext of `plaintext` followed by its tag. The nonce (12 bytes
    /// in TLS; any non-empty length is allowed) must never repeat for a key.
    public func seal(_ plaintext: [UInt8], nonce: [UInt8], additionalData: [UInt8]) -> [UInt8] {
        precondition(!nonce.isEmpty, "AES-GCM takes a non-empty nonce")
        let counter = initialCounter(nonce)
        let ciphertext = counterMode(plaintext[...], from: counter)
        return ciphertext + tag(ciphertext[...], additionalData: additionalData, counter: counter)
    }

    /// The plaintext of `sealed` (ciphertext and tag); nil if the tag does not
    /// match or the nonce is empty.
    public func open(_ sealed: [UInt8], nonce: [UInt8], additionalData: [UInt8]) -> [UInt8]? {
        guard sealed.count >= Self.tagSize, !nonce.isEmpty else { return nil }
        let counter = initialCounter(nonce)
        let ciphertext = sealed[..<(sealed.count - Self.tagSize)]
        let expected = tag(ciphertext, additionalData: additionalData, counter: counter)
        guard constantTimeEqual(expected, Array(sealed[(sealed.count - Self.tagSize)...])) else { return nil }
        return counterMode(ciphertext, from: counter)
    }

    /// J0: a 12-byte nonce followed by the counter 1; any other length
    /// hashed with its length in bits.
    func initialCounter(_ nonce: [UInt8]) -> [UInt8] {
        if nonce.count == 12 { return nonce + [0, 0, 0, 1] }
        var hash = GHASH(key: hashKey)
        hash.update(nonce[...])
        hash.padToBlock()
        hash.updateLengths(0, UInt64(nonce.count) * 8)
        return hash.digest
    }

    /// `text` XORed with AES of the counter blocks after `counter` (the last
    /// 32 bits counting up, wrapping), two blocks per pass of the cipher.
    func counterMode(_ text: ArraySlice<UInt8>, from counter: [UInt8]) -> [UInt8] {
        var output = Array(text)
        var counterBlocks = counter + counter
        var next = UInt32(counter[12]) << 24 | UInt32(counter[13]) << 16 | UInt32(counter[14]) << 8 | UInt32(counter[15])
        var offset = 0
        while offset < output.count {
            for half in 0..<2 {
                next &+= 1
                for index in 0..<4 { counterBlocks[16 * half + 12 + index] = UInt8(truncatingIfNeeded: next >> UInt32(24 - 8 * index)) }
            }
            let stream = cipher.encrypt(pair: counterBlocks)
            for index in 0..<min(32, output.count - offset) { output[offset + index] ^= stream[index] }
            offset += 32
        }
        return output
    }

    /// GHASH over the additional data and the ciphertext, each zero-padded,
    /// and their lengths in bits, masked with AES(J0).
    func tag(_ ciphertext: ArraySlice<UInt8>, additionalData: [UInt8], counter: [UInt8]) -> [UInt8] {
        var hash = GHASH(key: hashKey)
        hash.update(additionalData[...])
        hash.padToBlock()
        hash.update(ciphertext)
        hash.padToBlock()
        hash.updateLengths(UInt64(additionalData.count) * 8, UInt64(ciphertext.count) * 8)
        let mask = cipher.encrypt(block: counter)
        return zip(hash.digest, mask).map { $0 ^ $1 }
    }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }
}

/// GHASH (SP 800-38D section 6.4): Y = (Y xor block) * H in GF(2^128), with
/// GCM's reflected bit order (the first bit of a block is x^0).
struct GHASH {
    let key: (high: UInt64, low: UInt64)
    var state: (high: UInt64, low: UInt64) = (0, 0)
    var pending: [UInt8] = []

    init(key: (high: UInt64, low: UInt64)) { self.key = key }

    mutating func update(_ bytes: ArraySlice<UInt8>) {
        var rest = bytes
        if !pending.isEmpty {
            let taken = rest.prefix(16 - pending.count)
            pending += taken
            rest = rest.dropFirst(taken.count)
            guard pending.count == 16 else { return }
            absorb(pending[...])
            pending = []
        }
        while rest.count >= 16 {
            absorb(rest.prefix(16))
            rest = rest.dropFirst(16)
        }
        pending = Array(rest)
    }

    /// Completes a partial block with zeros.
    mutating func padToBlock() {
        guard !pending.isEmpty else { return }
        absorb((pending + [UInt8](repeating: 0, count: 16 - pending.count))[...])
        pending = []
    }

    mutating func updateLengths(_ first: UInt64, _ second: UInt64) {
        padToBlock()
        state.high ^= first
        state.low ^= second
        state = Self.multiply(state, key)
    }

    var digest: [UInt8] {
        var bytes: [UInt8] = []
        for word in [state.high, state.low] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return bytes
    }

    mutating func absorb(_ block: ArraySlice<UInt8>) {
        let start = block.startIndex
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(block[start + index])
            low = low << 8 | UInt64(block[start + 8 + index])
        }
        state.high ^= high
        state.low ^= low
        state = Self.multiply(state, key)
    }

    /// X * Y (SP 800-38D algorithm 1): for each bit of X, from x^0 (the top
    /// bit of `high`), add V if the bit is set, then V = V * x, which is a
    /// right shift with R = 0xe1 || 0^120 added if a bit falls off. Both
    /// choices are masks.
    static func multiply(_ x: (high: UInt64, low: UInt64), _ y: (high: UInt64, low: UInt64)) -> (high: UInt64, low: UInt64) {
        var z: (high: UInt64, low: UInt64) = (0, 0)
        var v = y
        for index in 0..<128 {
            let word = index < 64 ? x.high : x.low
            let bit = (word >> UInt64(63 - index % 64)) & 1
            let take = 0 &- bit
            z.high ^= v.high & take
            z.low ^= v.low & take
            let fallsOff = 0 &- (v.low & 1)
            v.low = v.low >> 1 | v.high << 63
            v.high = v.high >> 1 ^ (0xe100_0000_0000_0000 & fallsOff)
        }
        return z
    }
}
