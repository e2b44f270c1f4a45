import _Volatile

/// The Allwinner A10 SD/MMC host controller as an `SDHost`. Data moves by
/// its internal DMA controller (IDMAC) through a chain of descriptors and a
/// bounce buffer in the uncached DMA region; the task waits until the
/// controller's interrupt says the command, the data and the automatic
/// CMD12 are done.
public final class SunxiMMCHost<C: Clock, Interrupts: InterruptController>: SDHost {
    let registers: MMIO
    let clock: C
    public let stopsAutomatically = true
    public let maximumBlocksPerTransfer = SunxiMMC.bounceSize / 512
    let descriptors: UInt
    let bounce: UInt
    /// Interrupt causes the handler has seen and cleared since the last
    /// command (in a box of its own: the handler must not hold the host).
    let events = InterruptCauses()
    /// Woken by the controller's interrupt.
    let interrupted = WaitQueue()

    public init(tree: DeviceTree, path: StaticString, clock: C, interrupts: Interrupts) {
        let registers = MMIO(base: Runtime.registerBase(tree, path))
        self.registers = registers
        self.clock = clock
        descriptors = DMA.allocate(UInt(16 * SunxiMMC.descriptorCount), alignment: 16)
        bounce = DMA.allocate(UInt(SunxiMMC.bounceSize), alignment: 4096)
        registers.write(SunxiMMC.globalControl, SunxiMMC.softReset | SunxiMMC.fifoReset | SunxiMMC.dmaReset)
        registers.write(SunxiMMC.dmaControl, SunxiMMC.dmaSoftReset)
        registers.write(SunxiMMC.dmaControl, SunxiMMC.dmaEnable | SunxiMMC.fixedBurst)
        registers.write(SunxiMMC.blockSize, 512)
        registers.write(SunxiMMC.rawInterruptStatus, 0xFFFF_FFFF)
        registers.write(SunxiMMC.interruptMask, SunxiMMC.watched)
        registers.write(SunxiMMC.globalControl, SunxiMMC.interruptEnable | SunxiMMC.dmaInterfaceEnable)
        let events = events, interrupted = interrupted
        interrupts.enable(interrupts.line(of: tree, path)) {
            let raised = registers.read(SunxiMMC.rawInterruptStatus) & SunxiMMC.watched
            registers.write(SunxiMMC.rawInterruptStatus, raised)
            events.bits |= raised
            interrupted.wakeAll()
        }
    }

    public func send(_ index: UInt32, argument: UInt32, response: SDResponse, transfer: SDTransfer?) throws(BlockError) -> [UInt32] {
        var command = SunxiMMC.load | index
        if index == SDCommand.goIdle { command |= SunxiMMC.sendInitialisation }
        if response != .none { command |= SunxiMMC.responseExpected }
        if response == .long { command |= SunxiMMC.longResponse }
        // R3 (the OCR) carries no CRC.
        if response != .none && index != SDCommand.sendOperatingCondition { command |= SunxiMMC.checkCRC }
        var awaited = SunxiMMC.commandDone
        if let transfer {
            let bytes = transfer.blocks * 512
            if transfer.writing { UnsafeMutableRawPointer(bitPattern: bounce)!.copyMemory(from: transfer.buffer, byteCount: bytes) }
            describe(bytes)
            registers.write(SunxiMMC.descriptorListAddress, UInt32(truncatingIfNeeded: descriptors))
            registers.write(SunxiMMC.byteCount, UInt32(bytes))
            command |= SunxiMMC.dataExpected | SunxiMMC.waitForPreviousData
            if transfer.writing { command |= SunxiMMC.write }
            awaited |= SunxiMMC.dataDone
            if transfer.blocks > 1 {
                command |= SunxiMMC.autoStop
                awaited |= SunxiMMC.autoCommandDone
            }
        }
        events.bits = 0
        registers.write(SunxiMMC.argument, argument)
        registers.write(SunxiMMC.command, command)
        var finished = true
        do throws(WaitError) {
            try interrupted.wait(until: { events.bits & SunxiMMC.errors != 0 || events.bits & awaited == awaited },
                                 deadline: Tasks.deadline(afterNanoseconds: blockRequestTimeout))
        } catch {
            finished = false
        }
        registers.write(SunxiMMC.dmaStatus, 0x3FF)
        guard finished else { throw .timedOut }
        if events.bits & SunxiMMC.noResponse != 0 { throw .noMedium }
        if events.bits & SunxiMMC.errors != 0 { throw .deviceError }
        if let transfer, !transfer.writing {
            transfer.buffer.copyMemory(from: UnsafeRawPointer(bitPattern: bounce)!, byteCount: transfer.blocks * 512)
        }
        switch response {
        case .none: return []
        case .short: return [registers.read(SunxiMMC.response0)]
        // The controller holds bits 31:0 in RESP0 and 127:96 in RESP3.
        case .long: return (0..<4).reversed().map { registers.read(SunxiMMC.response0 + 4 * UInt($0)) }
        }
    }

    /// Chains descriptors over the bounce buffer for `bytes`, each at most 8 KiB, handed to the IDMAC.
    func describe(_ bytes: Int) {
        let count = (bytes + SunxiMMC.descriptorSpan - 1) / SunxiMMC.descriptorSpan
        for index in 0..<count {
            let entry = descriptors + UInt(16 * index)
            let size = min(SunxiMMC.descriptorSpan, bytes - index * SunxiMMC.descriptorSpan)
            var status = SunxiMMC.hold | SunxiMMC.chained
            if index == 0 { status |= SunxiMMC.first }
            if index == count - 1 { status |= SunxiMMC.last }
            VolatileMappedRegister<UInt32>(unsafeBitPattern: entry).store(status)
            VolatileMappedRegister<UInt32>(unsafeBitPattern: entry + 4).store(UInt32(size))
            VolatileMappedRegister<UInt32>(unsafeBitPattern: entry + 8).store(UInt32(truncatingIfNeeded: bounce + UInt(index * SunxiMMC.descriptorSpan)))
            VolatileMappedRegister<UInt32>(unsafeBitPattern: entry + 12).store(UInt32(truncatingIfNeeded: entry + 16))
        }
        boot_memory_barrier()
    }
}

/// What an interrupt handler reports to the code waiting for it.
final class InterruptCauses {
    var bits: UInt32 = 0
}

/// Registers and bits of the A10 SD/MMC host (outside the generic class:
/// Swift has no static stored properties there).
enum SunxiMMC {
    static let globalControl: UInt = 0x00, blockSize: UInt = 0x10, byteCount: UInt = 0x14
    static let command: UInt = 0x18, argument: UInt = 0x1C, response0: UInt = 0x20
    static let interruptMask: UInt = 0x30, rawInterruptStatus: UInt = 0x38
    static let dmaControl: UInt = 0x80, descriptorListAddress: UInt = 0x84, dmaStatus: UInt = 0x88

    // Global control.
    static let softReset: UInt32 = 1 << 0, fifoReset: UInt32 = 1 << 1, dmaReset: UInt32 = 1 << 2
    static let interruptEnable: UInt32 = 1 << 4, dmaInterfaceEnable: UInt32 = 1 << 5
    // IDMAC control.
    static let dmaSoftReset: UInt32 = 1 << 0, fixedBurst: UInt32 = 1 << 1, dmaEnable: UInt32 = 1 << 7
    // Command.
    static let responseExpected: UInt32 = 1 << 6, longResponse: UInt32 = 1 << 7, checkCRC: UInt32 = 1 << 8
    static let dataExpected: UInt32 = 1 << 9, write: UInt32 = 1 << 10, autoStop: UInt32 = 1 << 12
    static let waitForPreviousData: UInt32 = 1 << 13, sendInitialisation: UInt32 = 1 << 15, load: UInt32 = 1 << 31
    // Interrupt causes.
    static let noResponse: UInt32 = 1 << 1, commandDone: UInt32 = 1 << 2, dataDone: UInt32 = 1 << 3
    static let autoCommandDone: UInt32 = 1 << 14
    /// Response CRC, data CRC, response timeout, data timeout, FIFO, start and end bit errors.
    static let errors: UInt32 = noResponse | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 11 | 1 << 13 | 1 << 15
    static let watched: UInt32 = errors | commandDone | dataDone | autoCommandDone
    // Descriptor status.
    static let hold: UInt32 = 1 << 31, chained: UInt32 = 1 << 4, first: UInt32 = 1 << 3, last: UInt32 = 1 << 2

    /// The A10's IDMAC moves at most 8 KiB per descriptor.
    static let descriptorSpan = 8 * 1024
    static let bounceSize = 32 * 1024
    static let descriptorCount = bounceSize / descriptorSpan
}
