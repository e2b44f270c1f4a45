/// CPU and timer jitter: times a memory-bound workload over and over and
/// keeps the variation, assessed by JitterEstimate's health tests and
/// min-entropy estimate. Works on every board, the Cubieboard included.
public final class JitterSource<C: Clock>: EntropySource {
    public let name: StaticString = "jitter"
    public let canRepeat = true
    let clock: C
    let sampleCount: Int
    /// The boot key `--entropy-jitter`: off, it gives nothing.
    let enabled: Bool
    var scratch = [UInt32](repeating: 0, count: 1024)

    public init(clock: C, enabled: Bool = true, samples: Int = 2048) {
        self.clock = clock
        self.enabled = enabled
        sampleCount = samples
    }

    /// Up to three runs: a health test can fail by chance on a quiet machine.
    public func collect() -> (bytes: [UInt8], claimedBits: Int, note: StaticString?) {
        guard enabled else { return ([], 0, "turned off") }
        var result = sample()
        for _ in 0..<2 where result.note != nil {
            let again = sample()
            result = (result.bytes + again.bytes, again.claimedBits, again.note)
        }
        return result
    }

    func sample() -> (bytes: [UInt8], claimedBits: Int, note: StaticString?) {
        // Size the workload so one sample spans about 32 timer ticks: a
        // coarse timer (SP804 at 1 MHz) needs more work per sample.
        let calibrationStart = clock.now()
        var walker: UInt32 = 0x9e37_79b9
        for _ in 0..<256 { walker = step(walker) }
        let perStep = max(1, (clock.now() &- calibrationStart) / 256)
        let steps = Int(min(8192, max(16, 32 * clock.resolution / perStep)))
        var samples: [UInt32] = []
        samples.reserveCapacity(sampleCount)
        var previous = clock.now()
        for _ in 0..<sampleCount {
            for _ in 0..<steps { walker = step(walker) }
            let now = clock.now()
            samples.append(UInt32(truncatingIfNeeded: (now &- previous) / clock.resolution))
            previous = now
        }
        let assessment = JitterEstimate.assess(samples)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samples.count * 2)
        for sample in samples {
            bytes.append(UInt8(truncatingIfNeeded: sample))
            bytes.append(UInt8(truncatingIfNeeded: sample >> 8))
        }
        return (bytes, assessment.claimedBits, assessment.failure)
    }

    /// Touches memory in a data-dependent order: its timing varies.
    @inline(never)
    func step(_ walker: UInt32) -> UInt32 {
        let next = walker &* 1_664_525 &+ 1_013_904_223
        let index = Int(next >> 22)
        scratch[index] = scratch[index] &+ next
        return next
    }
}
