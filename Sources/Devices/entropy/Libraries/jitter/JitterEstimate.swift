/// How much entropy a series of timing measurements holds, estimated
/// conservatively, with the health tests of NIST SP 800-90B section 4.4.
///
/// The jitter source times a small memory-bound workload again and again;
/// the variation between runs comes from caches, pipelines, interrupts on
/// the host and (under qemu) the host's scheduler. Only the low 8 bits of
/// each duration are assessed.
public enum JitterEstimate {
    /// The result of assessing a run of samples.
    public struct Assessment {
        /// Min-entropy per sample, in 1/256 bits (lower bound).
        public let bitsPerSample256: Int
        /// Bits the source claims for the whole run: a quarter of the estimate,
        /// and nothing if a health test failed.
        public let claimedBits: Int
        /// Why the run was rejected, or nil.
        public let failure: StaticString?
    }

    /// Assesses `samples` (durations in timer ticks).
    public static func assess(_ samples: [UInt32]) -> Assessment {
        guard samples.count >= 64 else { return Assessment(bitsPerSample256: 0, claimedBits: 0, failure: "too few samples") }
        let low = samples.map { UInt8(truncatingIfNeeded: $0) }
        // Repetition count test (SP 800-90B 4.4.1): cutoff 1 + 20/H for
        // alpha = 2^-20, with H = 0.5 bit assumed per sample.
        var run = 1
        for index in 1..<low.count {
            run = low[index] == low[index - 1] ? run + 1 : 1
            if run >= 41 { return Assessment(bitsPerSample256: 0, claimedBits: 0, failure: "stuck timer (repetition count test)") }
        }
        // Most-common-value estimate (SP 800-90B 6.3.1) with its 99% upper bound on p.
        var counts = [Int](repeating: 0, count: 256)
        for value in low { counts[Int(value)] += 1 }
        let n = Double(low.count)
        let p = Double(counts.max()!) / n
        let upper = min(1.0, p + 2.576 * (p * (1 - p) / (n - 1)).squareRoot())
        let bits256 = log2LowerBound256(1 / upper)
        // Adaptive proportion test (4.4.2), window 512: one value must not dominate.
        if low.count >= 512 {
            for start in stride(from: 0, to: low.count - 511, by: 512) {
                let first = low[start]
                if low[start..<start + 512].filter({ $0 == first }).count > 410 {
                    return Assessment(bitsPerSample256: 0, claimedBits: 0, failure: "stuck timer (adaptive proportion test)")
                }
            }
        }
        let total = bits256 * low.count / 256
        return Assessment(bitsPerSample256: bits256, claimedBits: total / 4, failure: nil)
    }

    /// A lower bound of log2(x) for x >= 1, in 1/256 bits, without libm:
    /// log2(x) = e + log2(m) with m in [1, 2), and log2(m) >= m - 1 there.
    public static func log2LowerBound256(_ x: Double) -> Int {
        guard x > 1 else { return 0 }
        let exponent = Int(x.exponent)
        let mantissa = x.significand
        return exponent * 256 + Int((mantissa - 1) * 256)
    }
}
