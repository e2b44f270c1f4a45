/// The AEAD AES-GCM (NIST SP 800-38D) with a 16-byte tag: counter-mode AES
/// and the GHASH authenticator. A value holds one key's expanded schedule and
/// hash key, so that a TLS connection expands its keys once.
///
/// Constant time: AES is bit-sliced (see AES); GHASH multiplies in GF(2^128)
/// by integer multiplications of spaced-out bits (see
/// `GHASH.carrylessMultiply`), with no branch, and looks nothing up in a
/// table (a table of multiples of the hash key, indexed by the running
/// product, would leak the product through the cache). `open` compares the tag with `constantTimeEqual` and decrypts
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
        var next = UInt32(counter[12]) << 24 | UInt32(counter[13]) << 16 | UInt32(counter[14]) << 8 | UInt32(counter[15])
        var stream = InlineArray<32, UInt8>(repeating: 0)
        var offset = 0
        while offset < output.count {
            for half in 0..<2 {
                next &+= 1
                for index in 0..<12 { stream[16 * half + index] = counter[index] }
                for index in 0..<4 { stream[16 * half + 12 + index] = UInt8(truncatingIfNeeded: next >> UInt32(24 - 8 * index)) }
            }
            cipher.encrypt(pair: &stream)
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

    /// X * Y in GF(2^128). GCM's blocks read as big-endian numbers hold x^0
    /// in the top bit, so their carry-less product, shifted left once, holds
    /// X * Y's coefficients 0-127 in its top half and 128-254 in its bottom
    /// half, both in the same reflected order. The bottom half h, as
    /// h * x^128 = h * (1 + x + x^2 + x^7), folds into the top: multiplying by
    /// x is a right shift, and the bits shifted out (o) fold once more.
    static func multiply(_ x: (high: UInt64, low: UInt64), _ y: (high: UInt64, low: UInt64)) -> (high: UInt64, low: UInt64) {
        let (p3, p2, p1, p0) = carrylessMultiply(x, y)
        // The shift left by one.
        let top = (high: p3 << 1 | p2 >> 63, low: p2 << 1 | p1 >> 63)
        let h = (high: p1 << 1 | p0 >> 63, low: p0 << 1)
        func shiftedRight(_ s: UInt64) -> (high: UInt64, low: UInt64) { (h.high >> s, h.low >> s | h.high << (64 - s)) }
        let (h1, h2, h7) = (shiftedRight(1), shiftedRight(2), shiftedRight(7))
        let o = h.low << 63 ^ h.low << 62 ^ h.low << 57
        return (top.high ^ h.high ^ h1.high ^ h2.high ^ h7.high ^ o ^ o >> 1 ^ o >> 2 ^ o >> 7,
                top.low ^ h.low ^ h1.low ^ h2.low ^ h7.low)
    }

    /// The 256-bit carry-less product of two 128-bit values, most significant
    /// word first, by Karatsuba over 64-bit halves.
    static func carrylessMultiply(_ a: (high: UInt64, low: UInt64), _ b: (high: UInt64, low: UInt64)) -> (UInt64, UInt64, UInt64, UInt64) {
        let high = carrylessMultiply(a.high, b.high), low = carrylessMultiply(a.low, b.low)
        let cross = carrylessMultiply(a.high ^ a.low, b.high ^ b.low)
        let middle = (high: cross.high ^ high.high ^ low.high, low: cross.low ^ high.low ^ low.low)
        return (high.high, high.low ^ middle.high, low.high ^ middle.low, low.low)
    }

    /// The 128-bit carry-less product of two 64-bit values, by Karatsuba over
    /// 32-bit halves.
    static func carrylessMultiply(_ a: UInt64, _ b: UInt64) -> (high: UInt64, low: UInt64) {
        let (a1, a0) = (UInt32(truncatingIfNeeded: a >> 32), UInt32(truncatingIfNeeded: a))
        let (b1, b0) = (UInt32(truncatingIfNeeded: b >> 32), UInt32(truncatingIfNeeded: b))
        let high = carrylessMultiply(a1, b1), low = carrylessMultiply(a0, b0)
        let middle = carrylessMultiply(a1 ^ a0, b1 ^ b0) ^ high ^ low
        return (high ^ middle >> 32, low ^ middle << 32)
    }

    /// The 64-bit carry-less product of two 32-bit values from integer
    /// multiplications (which take the same time for every operand on the
    /// ARMv7-A cores): each operand split into four parts, bits 4i + r for
    /// r = 0...3, so that a product of parts has at most eight terms in any
    /// column and its carries never reach the next column it uses; the
    /// columns r of the four products whose parts' r sum to r (mod 4) are
    /// kept.
    static func carrylessMultiply(_ x: UInt32, _ y: UInt32) -> UInt64 {
        let x0 = UInt64(x & 0x1111_1111), x1 = UInt64(x & 0x2222_2222), x2 = UInt64(x & 0x4444_4444), x3 = UInt64(x & 0x8888_8888)
        let y0 = UInt64(y & 0x1111_1111), y1 = UInt64(y & 0x2222_2222), y2 = UInt64(y & 0x4444_4444), y3 = UInt64(y & 0x8888_8888)
        let z0 = x0 &* y0 ^ x1 &* y3 ^ x2 &* y2 ^ x3 &* y1
        let z1 = x0 &* y1 ^ x1 &* y0 ^ x2 &* y3 ^ x3 &* y2
        let z2 = x0 &* y2 ^ x1 &* y1 ^ x2 &* y0 ^ x3 &* y3
        let z3 = x0 &* y3 ^ x1 &* y2 ^ x2 &* y1 ^ x3 &* y0
        return z0 & 0x1111_1111_1111_1111 | z1 & 0x2222_2222_2222_2222 | z2 & 0x4444_4444_4444_4444 | z3 & 0x8888_8888_8888_8888
    }
}
