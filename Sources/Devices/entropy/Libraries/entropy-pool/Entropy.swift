/// The entropy device: gathers from its sources (devices of type
/// entropy-source) into the input pool, seeds the ChaCha20 generator, and
/// backs the Embedded stdlib's arc4random_buf (Hashable, Set, random()).
/// Its contract is on `EntropyDevice` (entropy/Runtime/EntropyDevice.swift).
public final class Entropy<C: Clock>: EntropyDevice {
    /// Entropy needed before the job may start under the strict policy.
    public static var requiredBits: Int { 256 }

    let clock: C
    let strict: Bool
    var pool = EntropyPool()
    var generator = ChaChaGenerator()
    /// Sources that can deliver again, by their index in `contributions`.
    var repeatable: [(contribution: Int, collect: () -> (bytes: [UInt8], claimedBits: Int, note: StaticString?))] = []
    var lastReseed: UInt64 = 0
    var seedingStarted: UInt64
    public private(set) var contributions: [EntropyContribution] = []

    /// `policy` is the entropy-policy key: "strict" or "warn".
    public init(clock: C, policy: String) {
        self.clock = clock
        if policy.utf8.elementsEqual("strict".utf8) {
            strict = true
        } else if policy.utf8.elementsEqual("warn".utf8) {
            strict = false
        } else {
            Runtime.fatal("entropy-policy must be strict or warn, not ", text: policy)
        }
        seedingStarted = clock.now()
        // The boot time is not counted: it is not secret, but it differs.
        pool.mix(Entropy.littleEndian(seedingStarted), claimedBits: 0)
    }

    /// Gathers from `source` now and, if it can deliver again, at reseeds.
    public func gather<S: EntropySource>(from source: S) {
        contributions.append(EntropyContribution(source: source.name.text, bytes: 0, claimedBits: 0, note: nil))
        let index = contributions.count - 1
        record(source.collect(), as: index)
        if source.canRepeat { repeatable.append((index, { source.collect() })) }
    }

    func record(_ result: (bytes: [UInt8], claimedBits: Int, note: StaticString?), as index: Int) {
        pool.mix(result.bytes, claimedBits: result.claimedBits)
        let earlier = contributions[index]
        contributions[index] = EntropyContribution(source: earlier.source, bytes: earlier.bytes + result.bytes.count,
                                                   claimedBits: earlier.claimedBits + min(max(0, result.claimedBits), result.bytes.count * 8),
                                                   note: result.note?.text)
    }

    /// Rounds of gathering from the repeatable sources before giving up.
    static var extraRounds: Int { 8 }

    /// Seeds the generator, logs what each source gave, and applies the
    /// policy. Until the pool holds enough, it gathers again from the sources
    /// that can deliver (a quiet machine gives little jitter per round).
    public func finishSeeding() {
        var rounds = 0
        while pool.claimedBits < Entropy.requiredBits && rounds < Entropy.extraRounds && !repeatable.isEmpty {
            for source in repeatable { record(source.collect(), as: source.contribution) }
            rounds += 1
        }
        let claimed = pool.claimedBits
        generator.reseed(with: pool.extract())
        lastReseed = clock.now()
        var line = "entropy:"
        for contribution in contributions {
            line += " \(contribution.source) \(contribution.claimedBits) bits"
            if let note = contribution.note { line += " (\(note))" }
            line += ";"
        }
        let microseconds = (lastReseed &- seedingStarted) / 1000
        print("\(line) pool \(claimed) bits, seeding took \(microseconds) us")
        if claimed >= Entropy.requiredBits {
            stdlibRandomness = { self.fill($0) }
            return
        }
        if strict {
            let required = Entropy.requiredBits
            print("entropy: not enough entropy: \(claimed) of \(required) bits. entropy-policy=strict stops here."
                  + " Add a source (virtio-rng, a boot loader's rng-seed, --entropy-jitter=true) or boot with --entropy-policy=warn.")
            Runtime.exit(3)
        }
        let required = Entropy.requiredBits
        print("WARNING: entropy: only \(claimed) of \(required) bits; random numbers may be predictable (entropy-policy=warn)")
        stdlibRandomness = { self.fill($0) }
    }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        reseedIfDue()
        generator.fill(buffer)
    }

    public func bytes(_ count: Int) -> [UInt8] {
        reseedIfDue()
        return generator.bytes(count)
    }

    public func integer(below bound: UInt64) -> UInt64 {
        reseedIfDue()
        return generator.integer(below: bound)
    }

    /// Reseeds from the sources that can deliver again, after 1 MiB of
    /// output or five minutes.
    func reseedIfDue() {
        guard generator.bytesSinceReseed > 1 << 20 || clock.now() &- lastReseed > 300_000_000_000 else { return }
        for source in repeatable {
            let result = source.collect()
            pool.mix(result.bytes, claimedBits: result.claimedBits)
        }
        generator.reseed(with: pool.extract())
        lastReseed = clock.now()
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64($0 * 8)) }
    }
}

/// Where arc4random_buf gets its bytes once an entropy device is seeded.
nonisolated(unsafe) var stdlibRandomness: ((UnsafeMutableRawBufferPointer) -> Void)?

#if hasFeature(Embedded)
/// The Embedded stdlib's source of randomness (Hasher seeds, random()).
/// (Not on the host, where the C library's must stay in charge.)
@_cdecl("arc4random_buf")
func arc4randomBuffer(_ buffer: UnsafeMutableRawPointer?, _ count: Int) {
    guard let buffer, count > 0 else { return }
    guard let fill = stdlibRandomness else {
        Runtime.fatal("random bytes were requested before the entropy device was seeded")
    }
    fill(UnsafeMutableRawBufferPointer(start: buffer, count: count))
}
#endif
