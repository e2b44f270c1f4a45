/// virtio-net (virtio 1.1 spec, section 5.1): queue 0 receives into a ring
/// of buffers in the DMA region, queue 1 transmits one frame at a time. Each
/// frame follows a header: 10 bytes on the legacy interface, 12 on the
/// modern one. No offloads are negotiated: the stack computes checksums.
public final class VirtioNet<C: Clock, Interrupts: InterruptController>: NetworkInterface {
    let transport: VirtioMMIO?
    let clock: C
    public let macAddress: [UInt8]
    let headerSize: Int
    let receiveBuffers: UInt
    let transmitBuffer: UInt

    static var networkDeviceID: UInt32 { 1 }
    static var bufferSize: Int { 2048 }
    static var receiveSlots: Int { 16 }

    public init(tree: DeviceTree, path: StaticString, clock: C, interrupts: Interrupts) {
        self.clock = clock
        var failure: StaticString?
        let macFeature: UInt32 = 1 << 5
        let transport = VirtioMMIO(tree: tree, path: path, expecting: VirtioNet.networkDeviceID, wanted: macFeature,
                                   queueCount: 2, queueSize: UInt32(VirtioNet.receiveSlots), failure: &failure)
        self.transport = transport
        headerSize = transport?.isModern == true ? 12 : 10
        receiveBuffers = DMA.allocate(UInt(VirtioNet.bufferSize * VirtioNet.receiveSlots), alignment: 4096)
        transmitBuffer = DMA.allocate(UInt(VirtioNet.bufferSize), alignment: 64)
        guard let transport else {
            macAddress = [0, 0, 0, 0, 0, 0]
            return
        }
        if transport.features & macFeature != 0 {
            let low = transport.config(0), high = transport.config(4)
            macAddress = [UInt8(truncatingIfNeeded: low), UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low >> 16),
                          UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8)]
        } else {
            macAddress = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
        }
        for slot in 0..<min(VirtioNet.receiveSlots, transport.size(ofQueue: 0)) {
            transport.postReceive(queue: 0, slot: slot, address: receiveBuffers + UInt(slot * VirtioNet.bufferSize),
                                  length: UInt32(VirtioNet.bufferSize))
        }
        transport.notify(queue: 0)
        transport.listen(tree: tree, path: path, interrupts: interrupts)
    }

    public func transmit(_ frame: [UInt8]) throws(NetworkError) {
        guard let transport else { throw .noDevice }
        guard frame.count >= 14, frame.count + headerSize <= VirtioNet.bufferSize else { throw .badFrame }
        let buffer = UnsafeMutableRawPointer(bitPattern: transmitBuffer)!
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: headerSize)
        frame.withUnsafeBytes { (buffer + headerSize).copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        let chain = [VirtqueueBuffer(address: transmitBuffer, length: UInt32(headerSize + frame.count), deviceWrites: false)]
        guard transport.transfer(chain, queue: 1, clock: clock, atMost: 1_000_000_000) != nil else { throw .timedOut }
    }

    public func receive() -> [UInt8]? {
        guard let transport, let (slot, length) = transport.takeReceived(queue: 0) else { return nil }
        guard slot >= 0, slot < VirtioNet.receiveSlots else { return nil }
        let address = receiveBuffers + UInt(slot * VirtioNet.bufferSize)
        let size = Int(min(length, UInt32(VirtioNet.bufferSize)))
        var frame: [UInt8] = []
        if size > headerSize {
            let start = UnsafePointer<UInt8>(bitPattern: address + UInt(headerSize))!
            frame = Array(UnsafeBufferPointer(start: start, count: size - headerSize))
        }
        transport.postReceive(queue: 0, slot: slot, address: address, length: UInt32(VirtioNet.bufferSize))
        transport.notify(queue: 0)
        return frame
    }
}
