/// virtio-net (virtio 1.1 spec, section 5.1): queue 0 receives into a ring
/// of buffers in the DMA region, queue 1 transmits from a ring of its own,
/// so that sending never waits for the device. When the transmit ring is
/// full (QEMU empties it in its own time), frames wait in a backlog that
/// goes out as slots come back, at the next send or receive; only a full
/// backlog drops a frame, as a full NIC queue does. Each frame follows a
/// header: 10 bytes on the legacy interface, 12 on the modern one or with
/// merged receive buffers. Where the device offers them (over a TAP device;
/// QEMU's user network does not), the offloads are taken both ways. Out:
/// CSUM and HOST_TSO4/6, the stack leaving TCP checksums to the device and
/// handing it TCP packets of up to 32 KiB, which the device (the host's
/// kernel, through the TAP) cuts into MTU-sized segments; such a frame goes
/// in a chain of transmit slots. In: GUEST_CSUM, GUEST_TSO4/6 and MRG_RXBUF,
/// the host handing over its TCP coalesced, up to 64 KiB across several
/// receive buffers, with the checksum left partial where the packet never
/// crossed a wire: the driver completes it, and the stack checks every
/// checksum as for any frame. Received frames
/// are taken as Linux's NAPI takes them: the interrupt wakes the net task,
/// and while it finds frames waiting the device is asked not to interrupt
/// (under emulation each interrupt is a trip through QEMU's interrupt
/// controller and out of the guest's translated code); once the ring is
/// empty, interrupts are back on and the ring is looked at once more.
public final class VirtioNet<C: Clock, Interrupts: InterruptController>: NetworkInterface {
    let transport: VirtioMMIO?
    let clock: C
    public let macAddress: MACAddress
    public let offloads: NetworkOffloads
    let headerSize: Int
    let receiveBuffers: UInt
    let transmitBuffers: UInt
    /// Transmit slots the device has given back.
    var freeTransmitSlots: [Int] = []
    /// For a frame in flight in a chain of transmit slots: its other slots, by its first.
    var chainedSlots: [[Int]]
    /// Frames waiting for transmit slots, oldest first.
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
    /// The most TCP payload in one frame the device cuts: 17 slots' worth.
    static var segmentationLimit: Int { 32 * 1024 }

    public init(tree: DeviceTree, path: StaticString, clock: C, interrupts: Interrupts) {
        self.clock = clock
        var failure: StaticString?
        let transport = VirtioMMIO(tree: tree, path: path, expecting: VirtioNet.networkDeviceID, wanted: VirtioNetFeature.wanted,
                                   choosing: VirtioNetFeature.choose,
                                   queueSizes: [UInt32(VirtioNet.receiveSlots), UInt32(VirtioNet.transmitSlots)], failure: &failure)
        self.transport = transport
        let merged = (transport?.features ?? 0) & VirtioNetFeature.mergedBuffers != 0
        headerSize = transport?.isModern == true || merged ? 12 : 10
        receiveBuffers = DMA.allocate(UInt(VirtioNet.bufferSize * VirtioNet.receiveSlots), alignment: 4096)
        transmitBuffers = DMA.allocate(UInt(VirtioNet.bufferSize * VirtioNet.transmitSlots), alignment: 4096)
        chainedSlots = Array(repeating: [], count: VirtioNet.transmitSlots)
        let features = transport?.features ?? 0
        let segmentation = VirtioNetFeature.segmentation4 | VirtioNetFeature.segmentation6
        offloads = NetworkOffloads(tcpChecksums: features & VirtioNetFeature.checksum != 0,
                                   tcpSegmentation: features & segmentation == segmentation ? VirtioNet.segmentationLimit : 0)
        guard let transport else {
            macAddress = .zero
            return
        }
        if transport.features & VirtioNetFeature.mac != 0 {
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
        // With segmentation: the payload the device cuts behind Ethernet's header and the longest IP and TCP headers.
        let largest = offloads.tcpSegmentation > 0 ? VirtioNet.segmentationLimit + 14 + 60 + 60 : VirtioNet.bufferSize - headerSize
        guard frame.count >= 14, frame.count <= largest else { throw .badFrame }
        guard backlog.count < VirtioNet.backlogLimit else {
            framesDropped += 1
            throw .timedOut
        }
        backlog.append(frame)
        sendBacklog(transport)
    }

    /// Moves waiting frames into the slots the device has given back.
    func sendBacklog(_ transport: VirtioMMIO) {
        while let (slot, _) = transport.takeReceived(queue: 1) {
            freeTransmitSlots.append(slot)
            freeTransmitSlots += chainedSlots[slot]
            chainedSlots[slot] = []
        }
        guard !backlog.isEmpty, !freeTransmitSlots.isEmpty else { return }
        var sent = 0
        while sent < backlog.count {
            let needed = (headerSize + backlog[sent].count + VirtioNet.bufferSize - 1) / VirtioNet.bufferSize
            guard needed <= freeTransmitSlots.count else { break }
            place(backlog[sent], in: Array(freeTransmitSlots.suffix(needed)), transport)
            freeTransmitSlots.removeLast(needed)
            sent += 1
        }
        backlog.removeFirst(sent)
        transport.notify(queue: 1)
        transport.setInterrupts(queue: 1, enabled: !backlog.isEmpty)
    }

    /// Copies the header and `frame` into the buffers of `slots`, in order, and gives them to the device.
    func place(_ frame: [UInt8], in slots: [Int], _ transport: VirtioMMIO) {
        func buffer(_ slot: Int) -> UnsafeMutableRawPointer {
            UnsafeMutableRawPointer(bitPattern: transmitBuffers + UInt(slot * VirtioNet.bufferSize))!
        }
        let header = offloads.tcpChecksums ? VirtioNetHeader(for: frame) : VirtioNetHeader()
        header.write(to: buffer(slots[0]), size: headerSize)
        var buffers: [VirtqueueBuffer] = []
        var copied = 0
        frame.withUnsafeBytes { bytes in
            for (index, slot) in slots.enumerated() {
                let start = index == 0 ? headerSize : 0
                let count = min(VirtioNet.bufferSize - start, frame.count - copied)
                (buffer(slot) + start).copyMemory(from: bytes.baseAddress! + copied, byteCount: count)
                copied += count
                buffers.append(VirtqueueBuffer(address: UInt(bitPattern: buffer(slot)), length: UInt32(start + count), deviceWrites: false))
            }
        }
        if slots.count == 1 {
            transport.post(queue: 1, slot: slots[0], buffer: buffers[0])
        } else {
            chainedSlots[slots[0]] = Array(slots.dropFirst())
            transport.post(queue: 1, slots: slots, buffers: buffers)
        }
        Counters.framesSent &+= 1
    }

    public func receive() -> [UInt8]? {
        guard let transport else { return nil }
        if !backlog.isEmpty { sendBacklog(transport) }   // the stack's task comes here whenever the device wakes it
        guard let first = nextReceived(transport) else { return nil }
        // A frame larger than a buffer (the host's coalesced TCP, with GUEST_TSO) comes in several, merged.
        var pieces = [first]
        let header = VirtioNetHeader(reading: receiveBuffer(first.slot), size: headerSize)
        while pieces.count < Int(header.bufferCount), let next = transport.takeReceived(queue: 0) { pieces.append(next) }
        var frame: [UInt8] = []
        let lengths = pieces.map { Int(min($0.length, UInt32(VirtioNet.bufferSize))) }
        let size = lengths.reduce(0, +) - headerSize
        if pieces.allSatisfy({ $0.slot >= 0 && $0.slot < VirtioNet.receiveSlots }), size > 0 {
            // In runs (memmove): Array's initializer from a buffer moves a byte at a time.
            frame = filledBytes(count: size) { destination in
                var offset = 0
                for (index, piece) in pieces.enumerated() {
                    let skip = index == 0 ? headerSize : 0
                    let count = max(0, lengths[index] - skip)
                    (destination.baseAddress! + offset).copyMemory(from: UnsafeRawPointer(receiveBuffer(piece.slot)) + skip, byteCount: count)
                    offset += count
                }
            }
            header.completeChecksum(&frame)
        }
        for piece in pieces where piece.slot >= 0 && piece.slot < VirtioNet.receiveSlots {
            transport.postReceive(queue: 0, slot: piece.slot, address: UInt(bitPattern: receiveBuffer(piece.slot)),
                                  length: UInt32(VirtioNet.bufferSize))
        }
        transport.notify(queue: 0)
        Counters.framesReceived &+= 1
        return frame
    }

    func receiveBuffer(_ slot: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: receiveBuffers + UInt(slot * VirtioNet.bufferSize))!
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

/// Feature bits of virtio-net (outside the generic class: Swift has no static stored properties there).
enum VirtioNetFeature {
    static let checksum: UInt32 = 1 << 0        // VIRTIO_NET_F_CSUM: the device completes checksums
    static let guestChecksum: UInt32 = 1 << 1   // VIRTIO_NET_F_GUEST_CSUM: frames may come with their checksum to complete
    static let mac: UInt32 = 1 << 5
    static let guestSegments4: UInt32 = 1 << 7  // VIRTIO_NET_F_GUEST_TSO4: TCP over IPv4 may come coalesced
    static let guestSegments6: UInt32 = 1 << 8  // VIRTIO_NET_F_GUEST_TSO6
    static let segmentation4: UInt32 = 1 << 11  // VIRTIO_NET_F_HOST_TSO4
    static let segmentation6: UInt32 = 1 << 12  // VIRTIO_NET_F_HOST_TSO6
    static let mergedBuffers: UInt32 = 1 << 15  // VIRTIO_NET_F_MRG_RXBUF: a frame may fill several receive buffers

    static let wanted = mac | checksum | segmentation4 | segmentation6 | guestChecksum | guestSegments4 | guestSegments6 | mergedBuffers

    /// Of the wanted features the device offers, those that work together:
    /// segmentation either way needs checksums that way, and coalesced frames
    /// (up to 64 KiB) need merged receive buffers, ours being 2 KiB.
    static func choose(_ offered: UInt32) -> UInt32 {
        var chosen = offered
        if chosen & checksum == 0 { chosen &= ~(segmentation4 | segmentation6) }
        if chosen & guestChecksum == 0 || chosen & mergedBuffers == 0 { chosen &= ~(guestSegments4 | guestSegments6) }
        return chosen
    }
}

/// The header before each frame sent (virtio 1.1, 5.1.6): for a TCP
/// packet where the device completes checksums, where the checksum's range
/// starts and where the checksum goes, and, for a packet longer than the
/// MTU, how the device cuts it (the segment payload it leaves beside the
/// same headers). Read from the frame's own headers; all zero for anything
/// else. Little-endian, as the legacy interface on ARM and the modern one
/// both have it.
struct VirtioNetHeader: Equatable {
    static let needsChecksum: UInt8 = 1
    static let tcpv4: UInt8 = 1, tcpv6: UInt8 = 4

    var flags: UInt8 = 0
    var segmentationType: UInt8 = 0
    var headerLength: UInt16 = 0
    var segmentSize: UInt16 = 0
    var checksumStart: UInt16 = 0
    var checksumOffset: UInt16 = 0
    /// How many receive buffers a received frame fills (with merged buffers; else 1).
    var bufferCount: UInt16 = 1

    init() {}

    /// The header at the start of a receive buffer: `size` bytes, 12 with the buffer count.
    init(reading buffer: UnsafeRawPointer, size: Int) {
        func load(_ offset: Int) -> UInt16 {
            UInt16(buffer.load(fromByteOffset: offset, as: UInt8.self)) | UInt16(buffer.load(fromByteOffset: offset + 1, as: UInt8.self)) << 8
        }
        flags = buffer.load(fromByteOffset: 0, as: UInt8.self)
        segmentationType = buffer.load(fromByteOffset: 1, as: UInt8.self)
        headerLength = load(2)
        segmentSize = load(4)
        checksumStart = load(6)
        checksumOffset = load(8)
        bufferCount = size >= 12 ? max(1, load(10)) : 1
    }

    /// Completes the checksum of a received frame whose header says it needs
    /// it (NEEDS_CSUM: the host left it partial, as for a packet that never
    /// left the machine): the ones' complement of the sum from
    /// `checksumStart` to the end, the field included, stored in the field.
    /// A range outside the frame is left alone, and the stack then refuses it.
    func completeChecksum(_ frame: inout [UInt8]) {
        guard flags & VirtioNetHeader.needsChecksum != 0 else { return }
        let start = Int(checksumStart), field = start + Int(checksumOffset)
        guard field + 2 <= frame.count else { return }
        let sum = InternetChecksum.finish(InternetChecksum.sum(frame[start...]))
        frame[field] = UInt8(sum >> 8)
        frame[field + 1] = UInt8(truncatingIfNeeded: sum)
    }

    /// The header for an Ethernet frame the stack made: IPv4 with its
    /// header's length, or IPv6 with TCP straight after (the stack adds no
    /// extension headers to TCP).
    init(for frame: [UInt8]) {
        guard frame.count >= 14 + 20 else { return }
        let etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        let ipHeader: Int, isTCP: Bool, isIPv6: Bool
        switch etherType {
        case 0x0800:
            ipHeader = Int(frame[14] & 0x0F) * 4
            isTCP = frame[14 + 9] == 6
            isIPv6 = false
        case 0x86DD:
            ipHeader = 40
            isTCP = frame.count >= 14 + 40 && frame[14 + 6] == 6
            isIPv6 = true
        default:
            return
        }
        let tcp = 14 + ipHeader
        guard isTCP, frame.count >= tcp + 20 else { return }
        flags = VirtioNetHeader.needsChecksum
        checksumStart = UInt16(tcp)
        checksumOffset = 16
        guard frame.count > 14 + 1500 else { return }
        let tcpHeader = Int(frame[tcp + 12] >> 4) * 4
        segmentationType = isIPv6 ? VirtioNetHeader.tcpv6 : VirtioNetHeader.tcpv4
        headerLength = UInt16(tcp + tcpHeader)
        segmentSize = UInt16(1500 - ipHeader - tcpHeader)
    }

    /// Writes the header's `size` bytes (10, or 12 with the count of merged
    /// receive buffers, which a sent frame leaves 0).
    func write(to buffer: UnsafeMutableRawPointer, size: Int) {
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        buffer.storeBytes(of: flags, toByteOffset: 0, as: UInt8.self)
        buffer.storeBytes(of: segmentationType, toByteOffset: 1, as: UInt8.self)
        func store(_ value: UInt16, at offset: Int) {
            buffer.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: offset, as: UInt8.self)
            buffer.storeBytes(of: UInt8(truncatingIfNeeded: value >> 8), toByteOffset: offset + 1, as: UInt8.self)
        }
        store(headerLength, at: 2)
        store(segmentSize, at: 4)
        store(checksumStart, at: 6)
        store(checksumOffset, at: 8)
    }
}
