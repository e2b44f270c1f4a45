/// virtio-rng (virtio device ID 4): the hypervisor's random number
/// generator (qemu's is backed by the host's /dev/urandom), read through a
/// virtio-mmio transport. Credited in full, as Linux credits hardware RNGs
/// whose quality is trusted.
public final class VirtioRNG: EntropySource {
    public let name: StaticString = "virtio-rng"
    public let canRepeat = true
    let transport: VirtioMMIO?
    let failure: StaticString?
    var buffer: UInt = 0

    static let entropyDeviceID: UInt32 = 4
    static let requestSize: UInt32 = 64

    public init(tree: DeviceTree, path: StaticString) {
        var failure: StaticString?
        transport = VirtioMMIO(tree: tree, path: path, expecting: VirtioRNG.entropyDeviceID, failure: &failure)
        self.failure = failure
        if transport != nil { buffer = DMA.allocate(UInt(VirtioRNG.requestSize), alignment: 64) }
    }

    public func collect() -> (bytes: [UInt8], claimedBits: Int, note: StaticString?) {
        guard let transport else { return ([], 0, failure) }
        let written = transport.receive(into: buffer, length: VirtioRNG.requestSize)
        guard written > 0 else { return ([], 0, "device did not answer") }
        let bytes = (0..<Int(written)).map { UnsafePointer<UInt8>(bitPattern: buffer + UInt($0))!.pointee }
        return (bytes, bytes.count * 8, nil)
    }
}
