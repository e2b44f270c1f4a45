/// The unikernel's cryptographically secure random number generator.
///
/// Design: the one Linux has used since 5.18 (random.c, by J. Donenfeld),
/// chosen over Fortuna because it is simpler and fits a unikernel that
/// gathers most of its entropy at boot:
///
/// - an *input pool*: every source's bytes are hashed into one BLAKE2s state,
///   with a count of the entropy bits the sources claim;
/// - a *ChaCha20 generator* keyed from the pool, with fast key erasure
///   (D. J. Bernstein, "Fast-key-erasure random-number generators", 2017):
///   each request runs ChaCha20 from counter 0, takes the first 32 bytes of
///   keystream as the next key and hands out the rest, so a later memory
///   disclosure never reveals earlier output;
/// - reseeding: when sources deliver again, the pool is extracted (BLAKE2s of
///   the old key and the pool) into a new key.
///
/// Fortuna's 32 pools defend a long-running generator against an attacker
/// who can inject and observe inputs between reseeds; a unikernel whose
/// sources are a hypervisor RNG, a boot-loader seed and CPU jitter gathered
/// at boot gains little from that, and one pool is easier to check.
public struct EntropyPool {
    var hash = BLAKE2s()
    /// Entropy the sources claimed since the last extraction, in bits.
    public private(set) var claimedBits = 0

    public init() {}

    /// Hashes `bytes` into the pool, crediting `claimedBits` (capped at
    /// 8 per byte).
    public mutating func mix(_ bytes: [UInt8], claimedBits: Int) {
        hash.update(bytes)
        self.claimedBits += max(0, min(claimedBits, bytes.count * 8))
    }

    /// A 32-byte seed from everything mixed so far; the pool continues from
    /// it (so nothing mixed is lost) and its credit starts again at zero.
    public mutating func extract() -> [UInt8] {
        let seed = hash.finalize()
        hash = BLAKE2s()
        hash.update(BLAKE2s.hash(seed + [0x01]))   // the pool's next state, not the seed itself
        claimedBits = 0
        return seed
    }
}

/// A ChaCha20 generator with fast key erasure.
public struct ChaChaGenerator {
    var key = [UInt32](repeating: 0, count: 8)
    /// Whether a seed has been given.
    public private(set) var isSeeded = false
    /// Bytes handed out since the last reseed.
    public private(set) var bytesSinceReseed: UInt64 = 0

    public init() {}

    /// Replaces the key with BLAKE2s(key ‖ seed): a new seed adds to what the
    /// generator had, never replaces it with something weaker.
    public mutating func reseed(with seed: [UInt8]) {
        var keyBytes: [UInt8] = []
        for word in key { for shift in stride(from: 0, to: 32, by: 8) { keyBytes.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) } }
        key = littleEndianWords(BLAKE2s.hash(keyBytes + seed))
        isSeeded = true
        bytesSinceReseed = 0
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(count)
        var counter: UInt32 = 0
        let nonce: [UInt32] = [0, 0, 0]
        var first = ChaCha20.block(key: key, counter: counter, nonce: nonce)
        // Fast key erasure: the first 32 bytes become the next key.
        let nextKey = littleEndianWords(Array(first[0..<32]))
        output += first[32..<min(64, 32 + count)]
        while output.count < count {
            counter &+= 1
            first = ChaCha20.block(key: key, counter: counter, nonce: nonce)
            output += first[0..<min(64, count - output.count)]
        }
        key = nextKey
        bytesSinceReseed &+= UInt64(count)
        return output
    }

    /// Fills `buffer` with random bytes.
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            let chunk = bytes(min(buffer.count - offset, 4096))
            for byte in chunk {
                buffer[offset] = byte
                offset += 1
            }
        }
    }

    /// A uniformly distributed integer in 0..<bound (rejection sampling, no modulo bias).
    public mutating func integer(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let raw = bytes(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64($1.offset * 8) }
            if raw < limit { return raw % bound }
        }
    }
}
