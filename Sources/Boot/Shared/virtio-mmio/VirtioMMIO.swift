import _Volatile

/// A virtio-mmio transport (virtio 1.x spec, section 4.2) with its
/// virtqueues: requests one at a time (`transfer`), or a ring of receive
/// buffers the device fills (`postReceive`, `takeReceived`). Speaks both the legacy
/// (version 1, qemu's default) and the modern (version 2) register layouts.
/// Rings live in the uncached DMA region the linker script reserves.
public final class VirtioMMIO {
    let registers: MMIO
    public let deviceID: UInt32
    let version: UInt32
    /// The device's optional features this driver asked for and the device offers.
    public private(set) var features: UInt32 = 0
    var queues: [Virtqueue] = []
    var queue: Virtqueue? { queues.first }
    /// Woken by the transport's interrupt: a request done, a buffer filled.
    public let interrupted = WaitQueue()

    enum Register {
        static let magic: UInt = 0x000, version: UInt = 0x004, deviceID: UInt = 0x008
        static let deviceFeatures: UInt = 0x010, deviceFeaturesSelect: UInt = 0x014
        static let driverFeatures: UInt = 0x020, driverFeaturesSelect: UInt = 0x024
        static let guestPageSize: UInt = 0x028            // legacy
        static let queueSelect: UInt = 0x030, queueNumMax: UInt = 0x034, queueNum: UInt = 0x038
        static let queueAlign: UInt = 0x03c, queuePFN: UInt = 0x040   // legacy
        static let queueReady: UInt = 0x044                // modern
        static let queueNotify: UInt = 0x050
        static let interruptStatus: UInt = 0x060, interruptACK: UInt = 0x064
        static let status: UInt = 0x070
        static let queueDescLow: UInt = 0x080, queueDescHigh: UInt = 0x084
        static let queueAvailLow: UInt = 0x090, queueAvailHigh: UInt = 0x094
        static let queueUsedLow: UInt = 0x0a0, queueUsedHigh: UInt = 0x0a4
        static let config: UInt = 0x100
    }
    enum Status {
        static let acknowledge: UInt32 = 1, driver: UInt32 = 2, driverOK: UInt32 = 4, featuresOK: UInt32 = 8, failed: UInt32 = 128
    }

    /// Checks the transport at the node `path` and resets the device,
    /// accepting those of `wanted` (feature bits 0-31) that it offers (and
    /// that `choose` keeps of those: features that only work together), and
    /// sets up a virtqueue of at most each of `queueSizes` entries; `nil`
    /// with a reason when nothing usable is there.
    public init?(tree: DeviceTree, path: StaticString, expecting expectedID: UInt32, wanted: UInt32 = 0,
                 choosing choose: (UInt32) -> UInt32 = { $0 }, queueSizes: [UInt32] = [8], failure: inout StaticString?) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        guard registers.read(Register.magic) == 0x7472_6976 else { failure = "no virtio-mmio transport"; return nil }
        version = registers.read(Register.version)
        deviceID = registers.read(Register.deviceID)
        guard version == 1 || version == 2 else { failure = "unknown virtio-mmio version"; return nil }
        guard deviceID == expectedID else { failure = "no device on the transport"; return nil }
        registers.write(Register.status, 0)
        registers.write(Register.status, Status.acknowledge)
        registers.write(Register.status, Status.acknowledge | Status.driver)
        registers.write(Register.deviceFeaturesSelect, 0)
        features = choose(registers.read(Register.deviceFeatures) & wanted)
        registers.write(Register.driverFeaturesSelect, 0)
        registers.write(Register.driverFeatures, features)
        // A modern device needs VIRTIO_F_VERSION_1 (bit 32).
        registers.write(Register.driverFeaturesSelect, 1)
        registers.write(Register.driverFeatures, version == 2 ? 1 : 0)
        if version == 2 {
            registers.write(Register.status, Status.acknowledge | Status.driver | Status.featuresOK)
            guard registers.read(Register.status) & Status.featuresOK != 0 else {
                registers.write(Register.status, Status.failed)
                failure = "device refused the features"
                return nil
            }
        }
        for (index, queueSize) in queueSizes.enumerated() {
            guard let queue = setUpQueue(UInt32(index), size: queueSize) else {
                registers.write(Register.status, Status.failed)
                failure = "no usable virtqueue"
                return nil
            }
            queues.append(queue)
        }
        registers.write(Register.status, registers.read(Register.status) | Status.driverOK)
    }

    /// Whether the device uses the modern (version 2) interface.
    public var isModern: Bool { version == 2 }

    func setUpQueue(_ index: UInt32, size wanted: UInt32) -> Virtqueue? {
        registers.write(Register.queueSelect, index)
        let maximum = registers.read(Register.queueNumMax)
        guard maximum > 0 else { return nil }
        let size = min(maximum, wanted)
        let queue = Virtqueue(size: Int(size))
        registers.write(Register.queueNum, size)
        if version == 1 {
            registers.write(Register.guestPageSize, 4096)
            registers.write(Register.queueAlign, 4096)
            registers.write(Register.queuePFN, UInt32(truncatingIfNeeded: queue.base / 4096))
        } else {
            registers.write(Register.queueDescLow, UInt32(truncatingIfNeeded: queue.base))
            registers.write(Register.queueDescHigh, 0)
            registers.write(Register.queueAvailLow, UInt32(truncatingIfNeeded: queue.availBase))
            registers.write(Register.queueAvailHigh, 0)
            registers.write(Register.queueUsedLow, UInt32(truncatingIfNeeded: queue.usedBase))
            registers.write(Register.queueUsedHigh, 0)
            registers.write(Register.queueReady, 1)
        }
        return queue
    }

    /// A 32-bit word of the device's configuration space.
    public func config(_ offset: UInt) -> UInt32 { registers.read(Register.config + offset) }

    /// Takes the transport's interrupt from the node `path`: the handler
    /// acknowledges it and wakes the tasks waiting in `interrupted`.
    public func listen(tree: DeviceTree, path: StaticString, interrupts: some InterruptController) {
        let registers = registers, interrupted = interrupted
        interrupts.enable(interrupts.line(of: tree, path)) {
            registers.write(Register.interruptACK, registers.read(Register.interruptStatus))
            interrupted.wakeAll()
        }
    }

    /// Hands the device one buffer to write into and polls for it; returns
    /// how many bytes it wrote (0 if it did not answer). For boot-time use
    /// (the entropy sources), before the job waits on anything.
    public func receive(into buffer: UInt, length: UInt32) -> UInt32 {
        guard let queue else { return 0 }
        queue.submit([VirtqueueBuffer(address: buffer, length: length, deviceWrites: true)])
        notify(queue: 0)
        var written: UInt32?
        for _ in 0..<10_000_000 {
            written = queue.takeUsed()
            if written != nil { break }
            boot_cpu_relax()
        }
        registers.write(Register.interruptACK, registers.read(Register.interruptStatus))
        return min(written ?? 0, length)
    }

    /// Submits `chain` as one request and parks the task until the device
    /// has used it, at most `nanoseconds`; returns the length the device
    /// wrote, or nil if it did not answer in time. One request at a time per
    /// queue: the caller holds its lock.
    public func transfer(_ chain: [VirtqueueBuffer], queue index: Int = 0, atMost nanoseconds: UInt64) -> UInt32? {
        guard index < queues.count else { return nil }
        let queue = queues[index]
        queue.submit(chain)
        notify(queue: index)
        var written: UInt32?
        try? interrupted.wait(until: {
            written = queue.takeUsed()
            return written != nil
        }, deadline: Tasks.deadline(afterNanoseconds: nanoseconds))
        return written
    }
}

extension VirtioMMIO {
    /// Gives the device the buffer at `address` to fill, as descriptor `slot` of queue `index`.
    public func postReceive(queue index: Int, slot: Int, address: UInt, length: UInt32) {
        post(queue: index, slot: slot, buffer: VirtqueueBuffer(address: address, length: length, deviceWrites: true))
    }

    /// Gives the device `buffer` as descriptor `slot` of queue `index` (a ring whose slots each own a buffer).
    public func post(queue index: Int, slot: Int, buffer: VirtqueueBuffer) {
        queues[index].post(slot: slot, buffer: buffer)
    }

    /// Gives the device one request made of several slots' buffers, in
    /// order: descriptor `slots[i]` describes `buffers[i]` and links to the
    /// next. The device gives it back as `slots[0]`.
    public func post(queue index: Int, slots: [Int], buffers: [VirtqueueBuffer]) {
        queues[index].post(slots: slots, buffers: buffers)
    }

    /// Tells the device queue `index` has new buffers, unless it asked not
    /// to be told (VIRTQ_USED_F_NO_NOTIFY: QEMU sets it while it is already
    /// working through the queue, and keeps it on a receive queue that has
    /// buffers). The spec says the driver SHOULD NOT notify then; under
    /// emulation each notification is a trap into QEMU, about as dear as a
    /// frame's worth of copying.
    public func notify(queue index: Int) {
        guard queues[index].deviceWantsNotification else { return }
        registers.write(Register.queueNotify, UInt32(index))
    }

    /// Asks the device not to interrupt when it uses buffers of queue `index`
    /// (VIRTQ_AVAIL_F_NO_INTERRUPT, a hint it may ignore), or to again.
    public func setInterrupts(queue index: Int, enabled: Bool) { queues[index].setInterrupts(enabled) }

    /// The next buffer the device used in queue `index`: its slot and the length it wrote.
    public func takeReceived(queue index: Int) -> (slot: Int, length: UInt32)? { queues[index].takeUsedElement() }

    /// Entries in queue `index`.
    public func size(ofQueue index: Int) -> Int { queues[index].size }
}

/// One buffer of a request: the device reads it, or writes it if `deviceWrites`.
public struct VirtqueueBuffer {
    public let address: UInt
    public let length: UInt32
    public let deviceWrites: Bool

    public init(address: UInt, length: UInt32, deviceWrites: Bool) {
        self.address = address
        self.length = length
        self.deviceWrites = deviceWrites
    }
}

/// A split virtqueue laid out as the legacy interface requires (used ring
/// on the next 4 KiB page), which the modern interface accepts too. One
/// request is in flight at a time, so its chain always starts at descriptor 0.
final class Virtqueue {
    let size: Int
    let base: UInt
    let availBase: UInt
    let usedBase: UInt
    var nextAvail: UInt16 = 0
    var lastUsed: UInt16 = 0

    enum Flag {
        static let next: UInt16 = 1, write: UInt16 = 2
    }

    init(size: Int) {
        self.size = size
        let availOffset = UInt(16 * size)
        let usedOffset = (availOffset + UInt(6 + 2 * size) + 4095) & ~UInt(4095)
        base = DMA.allocate(usedOffset + UInt(6 + 8 * size), alignment: 4096)
        availBase = base + availOffset
        usedBase = base + usedOffset
    }

    /// Writes `chain` as descriptors 0, 1, ... linked in order and makes it available.
    func submit(_ chain: [VirtqueueBuffer]) {
        precondition(!chain.isEmpty && chain.count <= size, "a virtqueue chain longer than the queue")
        for (index, buffer) in chain.enumerated() {
            let isLast = index == chain.count - 1
            describe(index, buffer, next: isLast ? nil : index + 1)
        }
        makeAvailable(0)
    }

    /// Makes the single buffer `buffer` available as descriptor `slot` (receive rings: each slot its own buffer).
    func post(slot: Int, buffer: VirtqueueBuffer) {
        describe(slot, buffer, next: nil)
        makeAvailable(slot)
    }

    /// Makes `buffers` available as one chain through the descriptors `slots`, headed by `slots[0]`.
    func post(slots: [Int], buffers: [VirtqueueBuffer]) {
        precondition(!slots.isEmpty && slots.count == buffers.count, "a chain of slots without buffers")
        for index in slots.indices {
            describe(slots[index], buffers[index], next: index + 1 < slots.count ? slots[index + 1] : nil)
        }
        makeAvailable(slots[0])
    }

    /// Writes descriptor `index`, chained to `next` if given.
    func describe(_ index: Int, _ buffer: VirtqueueBuffer, next: Int?) {
        let entry = base + UInt(16 * index)
        VolatileMappedRegister<UInt32>(unsafeBitPattern: entry).store(UInt32(truncatingIfNeeded: buffer.address))
        VolatileMappedRegister<UInt32>(unsafeBitPattern: entry + 4).store(0)
        VolatileMappedRegister<UInt32>(unsafeBitPattern: entry + 8).store(buffer.length)
        let flags = (buffer.deviceWrites ? Flag.write : 0) | (next == nil ? 0 : Flag.next)
        VolatileMappedRegister<UInt16>(unsafeBitPattern: entry + 12).store(flags)
        VolatileMappedRegister<UInt16>(unsafeBitPattern: entry + 14).store(UInt16(next ?? 0))
    }

    /// The used ring's flags: bit 0 (VIRTQ_USED_F_NO_NOTIFY) says the device
    /// needs no notification of new buffers. Read after `makeAvailable`'s barrier.
    var deviceWantsNotification: Bool {
        VolatileMappedRegister<UInt16>(unsafeBitPattern: usedBase).load() & 1 == 0
    }

    /// The available ring's flags: bit 0 asks the device not to interrupt.
    /// The barrier after it orders the store before the next look at the used
    /// ring: a buffer used before the device saw interrupts on is seen there.
    func setInterrupts(_ enabled: Bool) {
        VolatileMappedRegister<UInt16>(unsafeBitPattern: availBase).store(enabled ? 0 : 1)
        boot_memory_barrier()
    }

    /// Puts the chain headed by descriptor `head` in the available ring.
    func makeAvailable(_ head: Int) {
        let ring = Int(nextAvail) % size
        VolatileMappedRegister<UInt16>(unsafeBitPattern: availBase + 4 + UInt(2 * ring)).store(UInt16(head))
        boot_memory_barrier()
        nextAvail &+= 1
        VolatileMappedRegister<UInt16>(unsafeBitPattern: availBase + 2).store(nextAvail)
        boot_memory_barrier()
    }

    /// The next used element: the descriptor it names and the length written.
    func takeUsedElement() -> (slot: Int, length: UInt32)? {
        let usedIndex = VolatileMappedRegister<UInt16>(unsafeBitPattern: usedBase + 2).load()
        guard usedIndex != lastUsed else { return nil }
        boot_memory_barrier()
        let element = usedBase + 4 + UInt(8 * (Int(lastUsed) % size))
        lastUsed &+= 1
        let slot = Int(VolatileMappedRegister<UInt32>(unsafeBitPattern: element).load())
        return (slot, VolatileMappedRegister<UInt32>(unsafeBitPattern: element + 4).load())
    }

    /// The length the device wrote for the next used buffer, if it is done.
    func takeUsed() -> UInt32? { takeUsedElement()?.length }
}
