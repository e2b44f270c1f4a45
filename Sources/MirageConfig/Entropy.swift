// Entropy: a device that seeds the unikernel's CSPRNG (ChaCha20 with fast
// key erasure over a BLAKE2s input pool) from the sources a board has.

extension DeviceType {
    /// Random numbers for the unikernel (and Hashable, Set, random()).
    public static let entropy = DeviceType("entropy")
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
                                    default: "strict")

/// Whether to collect CPU/timer jitter (on by default).
public let entropyJitter = Key.boot("entropy-jitter", doc: "Collect CPU/timer jitter as an entropy source", default: true)

/// Every source the board has: virtio-rng if there is one, the boot
/// loader's rng-seed, and jitter from `clock`.
public let defaultEntropy = Device(.entropy, name: "entropy", implementation: .driver("entropy-pool"),
                                   arguments: [defaultClock], keys: [entropyPolicy.declaration, entropyJitter.declaration],
                                   parameters: ["optional-hardware": EntropySource.virtioRNG.rawValue,
                                                "sources": "rng-seed,jitter"])

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
    let hardware = sources.filter { $0 == .virtioRNG }.map(\.rawValue)
    let software = sources.filter { $0 != .virtioRNG }.map(\.rawValue)
    return Device(.entropy, name: name, implementation: .driver("entropy-pool"), arguments: [clock],
                  keys: [entropyPolicy.declaration, entropyJitter.declaration],
                  parameters: ["hardware": hardware.joined(separator: ","), "sources": software.joined(separator: ",")],
                  location: location)
}
