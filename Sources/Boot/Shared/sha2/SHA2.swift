/// SHA-256 and SHA-384 (FIPS 180-4).
///
/// Constant time: every step is the same sequence of additions, rotations
/// and logic operations whatever the data; the only branches and indices
/// depend on lengths, which are public. Nothing is looked up by a secret.
public protocol HashFunction {
    /// Bytes per block the compression function takes.
    static var blockSize: Int { get }
    /// Bytes in a digest.
    static var digestSize: Int { get }
    init()
    /// Adds `bytes` to what is hashed.
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// The digest of everything added; the hash is spent afterwards.
    mutating func finish() -> [UInt8]
}

extension HashFunction {
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
    public mutating func update(_ bytes: ArraySlice<UInt8>) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hash = Self()
        hash.update(bytes)
        return hash.finish()
    }
}

/// The block buffering both sizes share: whole blocks go to `compress`,
/// a partial one waits in `pending`; `finish` pads with 0x80, zeros and the
/// message's length in bits, big-endian, in the last `lengthBytes`.
struct BlockBuffer {
    var pending: [UInt8]
    var pendingCount = 0
    var byteCount: UInt64 = 0

    init(blockSize: Int) { pending = [UInt8](repeating: 0, count: blockSize) }

    mutating func update(_ bytes: UnsafeRawBufferPointer, _ compress: (UnsafeRawBufferPointer) -> Void) {
        guard var source = bytes.baseAddress, bytes.count > 0 else { return }
        let blockSize = pending.count
        var left = bytes.count
        byteCount &+= UInt64(left)
        if pendingCount > 0 {
            let take = min(left, blockSize - pendingCount)
            pending.withUnsafeMutableBytes { ($0.baseAddress! + pendingCount).copyMemory(from: source, byteCount: take) }
            pendingCount += take
            source += take
            left -= take
            guard pendingCount == blockSize else { return }
            pending.withUnsafeBytes { compress($0) }
            pendingCount = 0
        }
        while left >= blockSize {
            compress(UnsafeRawBufferPointer(start: source, count: blockSize))
            source += blockSize
            left -= blockSize
        }
        if left > 0 {
            pending.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: source, byteCount: left) }
            pendingCount = left
        }
    }

    mutating func finish(lengthBytes: Int, _ compress: (UnsafeRawBufferPointer) -> Void) {
        let blockSize = pending.count
        let bits = byteCount &* 8
        var padding = [UInt8](repeating: 0, count: (pendingCount + 1 + lengthBytes <= blockSize ? 1 : 2) * blockSize - pendingCount)
        padding[0] = 0x80
        for index in 0..<8 { padding[padding.count - 1 - index] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(index))) }
        let total = byteCount
        padding.withUnsafeBytes { update($0, compress) }
        byteCount = total
    }
}

/// SHA-256's and SHA-1's frame: 64-byte blocks, a 64-bit length, and
/// 32-bit words of state that are the digest, big-endian.
protocol WordStateHash: HashFunction {
    var state: [UInt32] { get }
    var buffer: BlockBuffer { get set }
    mutating func compress(_ block: UnsafeRawBufferPointer)
}

extension WordStateHash {
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        // The buffer is taken out while it calls compress, which changes self.
        var buffer = self.buffer
        buffer.update(bytes) { compress($0) }
        self.buffer = buffer
    }

    public mutating func finish() -> [UInt8] {
        var buffer = self.buffer
        buffer.finish(lengthBytes: 8) { compress($0) }
        self.buffer = buffer
        var digest: [UInt8] = []
        digest.reserveCapacity(4 * state.count)
        for word in state { appendBE32(&digest, word) }
        return digest
    }
}

public struct SHA256: HashFunction, WordStateHash {
    public static var blockSize: Int { 64 }
    public static var digestSize: Int { 32 }

    static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    var state: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var schedule = [UInt32](repeating: 0, count: 64)
    var buffer = BlockBuffer(blockSize: 64)

    public init() {}

    static func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }

    mutating func compress(_ block: UnsafeRawBufferPointer) {
        for t in 0..<16 {
            schedule[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16 | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
        }
        for t in 16..<64 {
            let w15 = schedule[t - 15], w2 = schedule[t - 2]
            let s0 = SHA256.rotate(w15, 7) ^ SHA256.rotate(w15, 18) ^ (w15 >> 3)
            let s1 = SHA256.rotate(w2, 17) ^ SHA256.rotate(w2, 19) ^ (w2 >> 10)
            schedule[t] = schedule[t - 16] &+ s0 &+ schedule[t - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7]
        for t in 0..<64 {
            let s1 = SHA256.rotate(e, 6) ^ SHA256.rotate(e, 11) ^ SHA256.rotate(e, 25)
            let choice = (e & f) ^ (~e & g)
            let temp1 = h &+ s1 &+ choice &+ SHA256.roundConstants[t] &+ schedule[t]
            let s0 = SHA256.rotate(a, 2) ^ SHA256.rotate(a, 13) ^ SHA256.rotate(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            h = g; g = f; f = e; e = d &+ temp1
            d = c; c = b; b = a; a = temp1 &+ s0 &+ majority
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
        state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
    }
}

/// SHA-384: SHA-512's compression with its own initial values, the digest cut to 48 bytes.
public struct SHA384: HashFunction {
    public static var blockSize: Int { 128 }
    public static var digestSize: Int { 48 }

    var compression = SHA512Compression(state: [0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
                                                0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4])

    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { compression.update(bytes) }
    public mutating func finish() -> [UInt8] { compression.finish(words: 6) }
}

/// SHA-512, which Ed25519 hashes with (RFC 8032).
public struct SHA512: HashFunction {
    public static var blockSize: Int { 128 }
    public static var digestSize: Int { 64 }

    var compression = SHA512Compression(state: [0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
                                                0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179])

    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { compression.update(bytes) }
    public mutating func finish() -> [UInt8] { compression.finish(words: 8) }
}

/// SHA-512's compression function and buffering, shared by SHA-384 and SHA-512.
struct SHA512Compression {
    static let roundConstants: [UInt64] = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]

    var state: [UInt64]
    var schedule = [UInt64](repeating: 0, count: 80)
    var buffer = BlockBuffer(blockSize: 128)

    init(state: [UInt64]) { self.state = state }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var buffer = self.buffer
        buffer.update(bytes) { compress($0) }
        self.buffer = buffer
    }

    /// The digest: the first `words` words of the state, big-endian.
    mutating func finish(words: Int) -> [UInt8] {
        var buffer = self.buffer
        // The length field is 16 bytes; its top 8 are zero for any message this holds.
        buffer.finish(lengthBytes: 16) { compress($0) }
        self.buffer = buffer
        var digest: [UInt8] = []
        digest.reserveCapacity(8 * words)
        for word in state.prefix(words) {
            appendBE32(&digest, UInt32(truncatingIfNeeded: word >> 32))
            appendBE32(&digest, UInt32(truncatingIfNeeded: word))
        }
        return digest
    }

    static func rotate(_ x: UInt64, _ n: UInt64) -> UInt64 { x >> n | x << (64 - n) }

    mutating func compress(_ block: UnsafeRawBufferPointer) {
        for t in 0..<16 {
            var word: UInt64 = 0
            for index in 0..<8 { word = word << 8 | UInt64(block[8 * t + index]) }
            schedule[t] = word
        }
        for t in 16..<80 {
            let w15 = schedule[t - 15], w2 = schedule[t - 2]
            let s0 = SHA512Compression.rotate(w15, 1) ^ SHA512Compression.rotate(w15, 8) ^ (w15 >> 7)
            let s1 = SHA512Compression.rotate(w2, 19) ^ SHA512Compression.rotate(w2, 61) ^ (w2 >> 6)
            schedule[t] = schedule[t - 16] &+ s0 &+ schedule[t - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7]
        for t in 0..<80 {
            let s1 = SHA512Compression.rotate(e, 14) ^ SHA512Compression.rotate(e, 18) ^ SHA512Compression.rotate(e, 41)
            let choice = (e & f) ^ (~e & g)
            let temp1 = h &+ s1 &+ choice &+ SHA512Compression.roundConstants[t] &+ schedule[t]
            let s0 = SHA512Compression.rotate(a, 28) ^ SHA512Compression.rotate(a, 34) ^ SHA512Compression.rotate(a, 39)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            h = g; g = f; f = e; e = d &+ temp1
            d = c; c = b; b = a; a = temp1 &+ s0 &+ majority
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
        state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
    }
}
