/// `/chosen/rng-seed`: bytes a boot loader (QEMU virt, U-Boot, `run`)
/// writes fresh for each boot. Credited in full, as Linux does with
/// RANDOM_TRUST_BOOTLOADER; never in the image itself.
public final class DeviceTreeSeed: EntropySource {
    public let name: StaticString = "rng-seed"
    public let canRepeat = false
    let seed: [UInt8]

    public init(tree: DeviceTree) {
        seed = tree.node(at: "/chosen")?.property("rng-seed").map { Array($0.bytes) } ?? []
    }

    public func collect() -> (bytes: [UInt8], claimedBits: Int, note: StaticString?) {
        guard !seed.isEmpty else { return ([], 0, "none passed") }
        // A seed of one repeated byte is a placeholder, not randomness.
        if seed.allSatisfy({ $0 == seed[0] }) { return (seed, 0, "constant, not credited") }
        return (seed, seed.count * 8, nil)
    }
}
