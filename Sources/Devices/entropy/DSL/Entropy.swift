// Entropy: a device that seeds the unikernel's CSPRNG (ChaCha20 with fast
// key erasure over a BLAKE2s input pool) from entropy sources, each a device
// of its own with its own driver.

extension DeviceType {
    /// Random numbers for the unikernel (and Hashable, Set, random()).
    public static let entropy = DeviceType("entropy")
    /// Something the entropy device gathers from: virtio-rng, a boot
    /// loader's seed, CPU/timer jitter.
    public static let entropySource = DeviceType("entropy-source")
}

/// A source the entropy device can gather from.
public enum EntropySource: String, CaseIterable, Sendable {
    /// virtio-rng: the hypervisor's RNG (virt and vexpress-a9 under qemu).
    case virtioRNG = "virtio-rng"
    /// `/chosen/rng-seed`, written fresh for each boot by QEMU virt, U-Boot or `run`.
    case deviceTreeSeed = "rng-seed"
    /// CPU and timer jitter, on every board.
    case jitter
}

/// `strict` (the default): the job does not start until the pool holds 256
/// bits from the sources; with fewer the unikernel says why and exits with
/// status 3. `warn`: it starts anyway, after a warning.
public let entropyPolicy = Key.boot("entropy-policy", doc: "strict: refuse to start without 256 bits of entropy; warn: start anyway",
                                    default: "strict", choices: ["strict", "warn"])

/// Whether to collect CPU/timer jitter (on by default).
public let entropyJitter = Key.boot("entropy-jitter", doc: "Collect CPU/timer jitter as an entropy source", default: true)

/// The hypervisor's RNG on a virtio-mmio transport; the board must have a transport.
public func virtioRNG(file: String = #filePath, line: Int = #line) -> Device {
    virtioRNG(at: SourceLocation(file: file, line: line))
}

func virtioRNG(at location: SourceLocation?) -> Device {
    Device(.entropySource, name: "virtioRNG", implementation: .driver("virtio-rng"), location: location)
}

/// The boot loader's `/chosen/rng-seed` (QEMU virt's firmware, U-Boot, `run` on virt).
public let deviceTreeSeed = Device(.entropySource, name: "rngSeed", implementation: .driver("rng-seed"))

/// CPU/timer jitter measured with `clock`; the boot key `--entropy-jitter` turns it off.
public func jitter(clock: Device = defaultClock, file: String = #filePath, line: Int = #line) -> Device {
    jitter(clock: clock, at: SourceLocation(file: file, line: line))
}

func jitter(clock: Device, at location: SourceLocation?) -> Device {
    Device(.entropySource, name: "jitter", implementation: .driver("jitter"), arguments: [clock],
           keys: [entropyJitter.declaration], location: location)
}

/// Every source the board has: virtio-rng if there is one, the boot
/// loader's rng-seed, and jitter from the board's clock.
public let defaultEntropy = Device(.entropy, name: "entropy", implementation: .driver("entropy-pool"),
                                   arguments: [defaultClock, .optional(virtioRNG(at: nil)), deviceTreeSeed,
                                               jitter(clock: defaultClock, at: nil)],
                                   keys: [entropyPolicy.declaration])

/// An entropy device with exactly these sources; a board that lacks one
/// (virtio-rng on the Cubieboard) is an error at configure time.
public func entropy(sources: [EntropySource], clock: Device = defaultClock, name: String = "entropy",
                    file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    if sources.isEmpty {
        Diagnostics.error("an entropy device needs at least one source", at: location,
                          fix: "name some of: \(EntropySource.allCases.map { "." + String(describing: $0) }.joined(separator: ", ")), or use defaultEntropy")
    }
    if clock.type != .clock {
        Diagnostics.error("entropy's clock must be a clock, not a \(clock.type)", at: location, fix: "pass defaultClock")
    }
    let devices = sources.map { source -> Device in
        switch source {
        case .virtioRNG: return virtioRNG(file: file, line: line)
        case .deviceTreeSeed: return deviceTreeSeed
        case .jitter: return jitter(clock: clock, file: file, line: line)
        }
    }
    return Device(.entropy, name: name, implementation: .driver("entropy-pool"), arguments: [clock] + devices,
                  keys: [entropyPolicy.declaration], location: location)
}
