/// virtio-net (virtio 1.1 spec, section 5.1): queue 0 receives into a ring
/// of buffers in the DMA region, queue 1 transmits from a ring of its own,
/// so that sending never waits for the device. When the transmit ring is
/// full (QEMU empties it in its own time), frames wait in a backlog that
/// goes out as slots come back, at the next send or receive; only a full
/// backlog drops a frame, as a full NIC queue does. Each frame follows a
/// header: 10 bytes on the legacy interface, 12 on the modern one. No
/// offloads are negotiated: the stack computes checksums. Received frames
/// are taken as Linux's NAPI takes them: the interrupt wakes the net task,
/// and while it finds frames waiting the device is asked not to interrupt
/// (under emulation each interrupt is a trip through QEMU's interrupt
/// controller and out of the guest's translated code); once the ring is
/// empty, interrupts are back on and the ring is looked at once more.
public final class VirtioNet<C: Clock, Interrupts: InterruptController>: NetworkInterface {
    let transport: VirtioMMIO?
    let clock: C
    public let macAddress: MACAddress
    let headerSize: Int
    let receiveBuffers: UInt
    let transmitBuffers: UInt
    /// Transmit slots the device has given back.
    var freeTransmitSlots: [Int] = []
    /// Frames waiting for a transmit slot, oldest first.
    var backlog: [[UInt8]] = []
    public private(set) var framesDropped = 0
    /// Whether the device is asked to interrupt when it fills a receive buffer.
    var receiveInterrupts = true
    let idle = WaitQueue()

    static var networkDeviceID: UInt32 { 1 }
    static var bufferSize: Int { 2048 }
    static var receiveSlots: Int { 64 }
    static var transmitSlots: Int { 128 }
    static var backlogLimit: Int { 256 }

    public init(tree: DeviceTree, path: StaticString, clock: C, interrupts: Interrupts) {
        self.clock = clock
        var failure: StaticString?
        let macFeature: UInt32 = 1 << 5
        let transport = VirtioMMIO(tree: tree, path: path, expecting: VirtioNet.networkDeviceID, wanted: macFeature,
                                   queueSizes: [UInt32(VirtioNet.receiveSlots), UInt32(VirtioNet.transmitSlots)], failure: &failure)
        self.transport = transport
        headerSize = transport?.isModern == true ? 12 : 10
        receiveBuffers = DMA.allocate(UInt(VirtioNet.bufferSize * VirtioNet.receiveSlots), alignment: 4096)
        transmitBuffers = DMA.allocate(UInt(VirtioNet.bufferSize * VirtioNet.transmitSlots), alignment: 4096)
        guard let transport else {
            macAddress = .zero
            return
        }
        if transport.features & macFeature != 0 {
            let low = transport.config(0), high = transport.config(4)
            macAddress = [UInt8(truncatingIfNeeded: low), UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low >> 16),
                          UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8)] as MACAddress
        } else {
            macAddress = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
        }
        for slot in 0..<min(VirtioNet.receiveSlots, transport.size(ofQueue: 0)) {
            transport.postReceive(queue: 0, slot: slot, address: receiveBuffers + UInt(slot * VirtioNet.bufferSize),
                                  length: UInt32(VirtioNet.bufferSize))
        }
        freeTransmitSlots = Array(0..<min(VirtioNet.transmitSlots, transport.size(ofQueue: 1)))
        // Sent frames are taken back at the next send or receive: a frame
        // going out wakes nobody, unless frames wait in the backlog for slots.
        transport.setInterrupts(queue: 1, enabled: false)
        transport.notify(queue: 0)
        transport.listen(tree: tree, path: path, interrupts: interrupts)
    }

    public var events: WaitQueue { transport?.interrupted ?? idle }

    public func transmit(_ frame: [UInt8]) throws(NetworkError) {
        guard let transport else { throw .noDevice }
        guard frame.count >= 14, frame.count + headerSize <= VirtioNet.bufferSize else { throw .badFrame }
        guard backlog.count < VirtioNet.backlogLimit else {
            framesDropped += 1
            throw .timedOut
        }
        backlog.append(frame)
        sendBacklog(transport)
    }

    /// Moves waiting frames into the slots the device has given back.
    func sendBacklog(_ transport: VirtioMMIO) {
        while let (slot, _) = transport.takeReceived(queue: 1) { freeTransmitSlots.append(slot) }
        guard !backlog.isEmpty, !freeTransmitSlots.isEmpty else { return }
        var sent = 0
        while sent < backlog.count, let slot = freeTransmitSlots.popLast() {
            place(backlog[sent], in: slot, transport)
            sent += 1
        }
        backlog.removeFirst(sent)
        transport.notify(queue: 1)
        transport.setInterrupts(queue: 1, enabled: !backlog.isEmpty)
    }

    func place(_ frame: [UInt8], in slot: Int, _ transport: VirtioMMIO) {
        let address = transmitBuffers + UInt(slot * VirtioNet.bufferSize)
        let buffer = UnsafeMutableRawPointer(bitPattern: address)!
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: headerSize)
        frame.withUnsafeBytes { (buffer + headerSize).copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        transport.post(queue: 1, slot: slot, buffer: VirtqueueBuffer(address: address, length: UInt32(headerSize + frame.count), deviceWrites: false))
        Counters.framesSent &+= 1
    }

    public func receive() -> [UInt8]? {
        guard let transport else { return nil }
        if !backlog.isEmpty { sendBacklog(transport) }   // the stack's task comes here whenever the device wakes it
        guard let (slot, length) = nextReceived(transport) else { return nil }
        guard slot >= 0, slot < VirtioNet.receiveSlots else { return nil }
        let address = receiveBuffers + UInt(slot * VirtioNet.bufferSize)
        let size = Int(min(length, UInt32(VirtioNet.bufferSize)))
        var frame: [UInt8] = []
        if size > headerSize {
            // In one run (memmove): Array's initializer from a buffer moves a byte at a time.
            let start = UnsafeRawPointer(bitPattern: address + UInt(headerSize))!
            frame = filledBytes(count: size - headerSize) { $0.copyMemory(from: UnsafeRawBufferPointer(start: start, count: size - headerSize)) }
        }
        transport.postReceive(queue: 0, slot: slot, address: address, length: UInt32(VirtioNet.bufferSize))
        transport.notify(queue: 0)
        Counters.framesReceived &+= 1
        return frame
    }

    /// The next filled receive buffer: interrupts off while there are some,
    /// back on (and one more look) once there are none.
    func nextReceived(_ transport: VirtioMMIO) -> (slot: Int, length: UInt32)? {
        if let used = transport.takeReceived(queue: 0) {
            if receiveInterrupts {
                transport.setInterrupts(queue: 0, enabled: false)
                receiveInterrupts = false
            }
            return used
        }
        guard !receiveInterrupts else { return nil }
        transport.setInterrupts(queue: 0, enabled: true)
        receiveInterrupts = true
        return transport.takeReceived(queue: 0)
    }
}
