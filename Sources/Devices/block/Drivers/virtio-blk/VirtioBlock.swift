import _Volatile

/// virtio-blk (virtio 1.1 spec, section 5.2): each request is a chain of a
/// 16-byte header {type, reserved, sector}, the data, and a status byte the
/// device writes. FLUSH is negotiated: a device that has it keeps writes in
/// the host's cache until asked; without it QEMU writes through.
///
/// Where the transport's node says `dma-coherent` (the board file says so:
/// the device sees memory as the CPU's caches hold it), the device reads and
/// writes the caller's buffers itself, in one request of up to 1 MiB that may
/// scatter over 254 pieces (a store's block headers aside, its data in place).
/// Elsewhere the data goes through a bounce buffer in the uncached DMA region,
/// 64 KiB at a time, copied in or out: a cached buffer the device wrote
/// behind the caches' back would read stale.
public final class VirtioBlock<C: Clock, Interrupts: InterruptController>: BlockDevice {
    let transport: VirtioMMIO?
    let clock: C
    public let geometry: BlockGeometry
    /// Why there is no disk, when there is none.
    public let failure: StaticString?
    let header: UInt
    let status: UInt
    /// The uncached buffer data goes through; 0 when the device DMAs the caller's buffer directly.
    let bounce: UInt
    /// One request at a time: they share the header, status and bounce buffer.
    let lock = TaskLock()

    static var blockDeviceID: UInt32 { 2 }
    static var bounceSize: Int { 64 * 1024 }
    /// The most one request moves when the device DMAs the caller's buffer.
    static var directSize: Int { 1024 * 1024 }
    /// Descriptors in the queue, so that a request can scatter over up to
    /// 254 pieces (QEMU offers 256; a chain is at most the queue's size).
    static var queueSize: UInt32 { 256 }

    public init(tree: DeviceTree, path: StaticString, clock: C, interrupts: Interrupts) {
        self.clock = clock
        var failure: StaticString?
        let transport = VirtioMMIO(tree: tree, path: path, expecting: VirtioBlock.blockDeviceID,
                                   wanted: VirtioBlockFeature.readOnly | VirtioBlockFeature.blockSize | VirtioBlockFeature.flush,
                                   queueSizes: [VirtioBlock.queueSize], failure: &failure)
        self.transport = transport
        self.failure = failure
        header = DMA.allocate(16, alignment: 16)
        status = DMA.allocate(4, alignment: 4)
        if let transport {
            let isCoherent = tree.node(at: path)?.property("dma-coherent") != nil
            bounce = isCoherent ? 0 : DMA.allocate(UInt(VirtioBlock.bounceSize), alignment: 4096)
            // capacity is always in 512-byte sectors, whatever blk_size says.
            let sectors = UInt64(transport.config(0)) | UInt64(transport.config(4)) << 32
            geometry = BlockGeometry(sectorSize: 512, sectorCount: sectors,
                                     isReadOnly: transport.features & VirtioBlockFeature.readOnly != 0)
            transport.listen(tree: tree, path: path, interrupts: interrupts)
        } else {
            bounce = 0
            geometry = BlockGeometry(sectorSize: 512, sectorCount: 0, isReadOnly: true)
        }
    }

    public func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: false) { throw problem }
        try lock.withLock { () throws(BlockError) in
            var done = 0
            while done < buffer.count {
                let length = min(buffer.count - done, requestLimit)
                let destination = buffer.baseAddress! + done
                try request(VirtioBlockRequest.read, sector: sector + UInt64(done / 512),
                            data: VirtqueueBuffer(address: bounce == 0 ? UInt(bitPattern: destination) : bounce, length: UInt32(length), deviceWrites: true))
                if bounce != 0 { destination.copyMemory(from: UnsafeRawPointer(bitPattern: bounce)!, byteCount: length) }
                done += length
            }
        }
    }

    public func read(sector: UInt64, scattering pieces: [UnsafeMutableRawBufferPointer]) throws(BlockError) {
        let lengths = pieces.map { $0.count }
        if let problem = geometry.problem(sector: sector, length: lengths.reduce(0, +), writing: false) { throw problem }
        // A sector spread over more pieces than a chain holds: read whole, then copy.
        guard let requests = plan(lengths) else { return try readThroughOneBuffer(sector: sector, scattering: pieces) }
        let starts = pieces.map { UInt(bitPattern: $0.baseAddress) }
        try lock.withLock { () throws(BlockError) in try move(requests, of: starts, at: sector, writing: false) }
    }

    public func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: true) { throw problem }
        try lock.withLock { () throws(BlockError) in
            var done = 0
            while done < buffer.count {
                let length = min(buffer.count - done, requestLimit)
                let source = buffer.baseAddress! + done
                if bounce != 0 { UnsafeMutableRawPointer(bitPattern: bounce)!.copyMemory(from: source, byteCount: length) }
                try request(VirtioBlockRequest.write, sector: sector + UInt64(done / 512),
                            data: VirtqueueBuffer(address: bounce == 0 ? UInt(bitPattern: source) : bounce, length: UInt32(length), deviceWrites: false))
                done += length
            }
        }
    }

    public func write(sector: UInt64, gathering pieces: [UnsafeRawBufferPointer]) throws(BlockError) {
        let lengths = pieces.map { $0.count }
        if let problem = geometry.problem(sector: sector, length: lengths.reduce(0, +), writing: true) { throw problem }
        guard let requests = plan(lengths) else { return try writeThroughOneBuffer(sector: sector, gathering: pieces) }
        let starts = pieces.map { UInt(bitPattern: $0.baseAddress) }
        try lock.withLock { () throws(BlockError) in try move(requests, of: starts, at: sector, writing: true) }
    }

    /// Moves `requests` (spans of the pieces at `starts`) between memory and
    /// the disk from `sector`, the lock held: the device DMAs the pieces
    /// themselves, or each request goes through the bounce buffer.
    func move(_ requests: [[BlockPieces.Span]], of starts: [UInt], at sector: UInt64, writing: Bool) throws(BlockError) {
        let type = writing ? VirtioBlockRequest.write : VirtioBlockRequest.read
        var at = sector
        for spans in requests {
            let length = spans.reduce(0) { $0 + $1.length }
            if bounce == 0 {
                try request(type, sector: at, data: spans.map { span in
                    VirtqueueBuffer(address: starts[span.piece] + UInt(span.offset), length: UInt32(span.length), deviceWrites: !writing)
                })
            } else {
                if writing { copyBounce(spans, of: starts, in: true) }
                try request(type, sector: at, data: VirtqueueBuffer(address: bounce, length: UInt32(length), deviceWrites: !writing))
                if !writing { copyBounce(spans, of: starts, in: false) }
            }
            at += UInt64(length / 512)
        }
    }

    /// Copies `spans` into the bounce buffer, in order, or out of it.
    func copyBounce(_ spans: [BlockPieces.Span], of starts: [UInt], in inward: Bool) {
        var done: UInt = 0
        for span in spans {
            let piece = UnsafeMutableRawPointer(bitPattern: starts[span.piece] + UInt(span.offset))!
            let staged = UnsafeMutableRawPointer(bitPattern: bounce + done)!
            if inward { staged.copyMemory(from: piece, byteCount: span.length) } else { piece.copyMemory(from: staged, byteCount: span.length) }
            done += UInt(span.length)
        }
    }

    /// nil if a sector is spread over more pieces than a chain holds.
    func plan(_ lengths: [Int]) -> [[BlockPieces.Span]]? {
        guard let transport else { return [] }
        return BlockPieces.requests(lengths, sectorSize: 512, maxSpans: bounce == 0 ? transport.size(ofQueue: 0) - 2 : Int.max, maxBytes: requestLimit)
    }

    /// The most one request moves: the bounce buffer's size, if there is one.
    var requestLimit: Int { bounce == 0 ? VirtioBlock.directSize : VirtioBlock.bounceSize }

    public func flush() throws(BlockError) {
        guard geometry.sectorCount > 0 else { throw .noMedium }
        // Without FLUSH negotiated, the device wrote every request through already.
        guard let transport, transport.features & VirtioBlockFeature.flush != 0 else { return }
        try lock.withLock { () throws(BlockError) in try request(VirtioBlockRequest.flush, sector: 0, data: nil) }
    }

    /// One request moving the bytes of `data` (if any), the lock held; the device's status byte decides.
    func request(_ type: UInt32, sector: UInt64, data: VirtqueueBuffer?) throws(BlockError) {
        try request(type, sector: sector, data: data.map { [$0] } ?? [])
    }

    /// One request moving the bytes of `data` (the chain's middle, scattered), the lock held.
    func request(_ type: UInt32, sector: UInt64, data: [VirtqueueBuffer]) throws(BlockError) {
        guard let transport else { throw .noMedium }
        Counters.blockRequests &+= 1
        Counters.blockBytes &+= UInt64(data.reduce(0) { $0 + Int($1.length) })
        VolatileMappedRegister<UInt32>(unsafeBitPattern: header).store(type)
        VolatileMappedRegister<UInt32>(unsafeBitPattern: header + 4).store(0)
        VolatileMappedRegister<UInt32>(unsafeBitPattern: header + 8).store(UInt32(truncatingIfNeeded: sector))
        VolatileMappedRegister<UInt32>(unsafeBitPattern: header + 12).store(UInt32(truncatingIfNeeded: sector >> 32))
        VolatileMappedRegister<UInt8>(unsafeBitPattern: status).store(0xFF)
        var chain: [VirtqueueBuffer] = []
        chain.reserveCapacity(data.count + 2)
        chain.append(VirtqueueBuffer(address: header, length: 16, deviceWrites: false))
        chain.append(contentsOf: data)
        chain.append(VirtqueueBuffer(address: status, length: 1, deviceWrites: true))
        guard transport.transfer(chain, atMost: blockRequestTimeout) != nil else { throw .timedOut }
        guard VolatileMappedRegister<UInt8>(unsafeBitPattern: status).load() == 0 else { throw .deviceError }
    }
}

/// Feature bits of virtio-blk (outside the generic class: Swift has no static stored properties there).
enum VirtioBlockFeature {
    static let readOnly: UInt32 = 1 << 5, blockSize: UInt32 = 1 << 6, flush: UInt32 = 1 << 9
}

/// Request types of virtio-blk.
enum VirtioBlockRequest {
    static let read: UInt32 = 0, write: UInt32 = 1, flush: UInt32 = 4
}
