/// ARM PL181 MultiMedia Card Interface (vexpress-a9), an `SDHost` driven by
/// programmed I/O: the CPU moves every word through the 16-word FIFO, so a
/// transfer is a loop, bounded by a deadline. The card protocol is `SDCard`'s.
public final class PL181Host<C: Clock>: SDHost {
    let registers: MMIO
    let clock: C
    public let stopsAutomatically = false
    /// DATALENGTH is 16 bits: 127 blocks at most; 64 keeps it a round 32 KiB.
    public let maximumBlocksPerTransfer = 64

    public init(tree: DeviceTree, path: StaticString, clock: C) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        self.clock = clock
        registers.write(PL181Register.mask0, 0)          // polled: no interrupts
        registers.write(PL181Register.power, 0x86)       // power on, rod control
        registers.write(PL181Register.clock, 0x1C6)      // enabled, slow for identification
        registers.write(PL181Register.clear, 0x7FF)
    }

    public func send(_ index: UInt32, argument: UInt32, response: SDResponse, transfer: SDTransfer?) throws(BlockError) -> [UInt32] {
        registers.write(PL181Register.clear, 0x7FF)
        registers.write(PL181Register.argument, argument)
        var command = index | PL181Command.enable
        if response != .none { command |= PL181Command.response }
        if response == .long { command |= PL181Command.longResponse }
        registers.write(PL181Register.command, command)
        let finished = response == .none ? PL181Status.commandSent : PL181Status.commandResponseEnd
        let status = try waitFor(finished | PL181Status.commandTimeout | PL181Status.commandCRCFail)
        if status & PL181Status.commandTimeout != 0 { throw .noMedium }
        // QEMU's card model gives R3 (the OCR) no CRC, as real cards do: a CRC failure there is expected.
        if status & PL181Status.commandCRCFail != 0 && index != SDCommand.sendOperatingCondition { throw .deviceError }
        var words: [UInt32] = []
        switch response {
        case .none: break
        case .short: words = [registers.read(PL181Register.response0)]
        case .long: words = (0..<4).map { registers.read(PL181Register.response0 + 4 * UInt($0)) }
        }
        if let transfer { try move(transfer) }
        return words
    }

    /// The data phase, after the command (QEMU's card has data only then).
    func move(_ transfer: SDTransfer) throws(BlockError) {
        let bytes = transfer.blocks * 512
        registers.write(PL181Register.dataTimer, 0xFFFF_FFFF)
        registers.write(PL181Register.dataLength, UInt32(bytes))
        // Enable, direction (1 = from the card), block size 2^9.
        registers.write(PL181Register.dataControl, 1 | (transfer.writing ? 0 : 2) | 9 << 4)
        let words = transfer.buffer.bindMemory(to: UInt32.self, capacity: bytes / 4)
        let deadline = clock.ticks() &+ clock.ticks(forNanoseconds: blockRequestTimeout)
        var index = 0
        while index < bytes / 4 {
            // Read STATUS before each FIFO access: QEMU refills the FIFO only then.
            let status = registers.read(PL181Register.status)
            if status & PL181Status.dataErrors != 0 { throw .deviceError }
            if transfer.writing {
                if status & PL181Status.txFIFOFull == 0 {
                    registers.write(PL181Register.fifo, words[index])
                    index += 1
                    continue
                }
            } else if status & PL181Status.rxDataAvailable != 0 {
                words[index] = registers.read(PL181Register.fifo)
                index += 1
                continue
            }
            if clock.ticks() >= deadline { throw .timedOut }
        }
        let status = try waitFor(PL181Status.dataEnd | PL181Status.dataErrors)
        if status & PL181Status.dataErrors != 0 { throw .deviceError }
    }

    /// Polls STATUS until one of `bits` is set, at most the request timeout.
    func waitFor(_ bits: UInt32) throws(BlockError) -> UInt32 {
        let deadline = clock.ticks() &+ clock.ticks(forNanoseconds: blockRequestTimeout)
        while true {
            let status = registers.read(PL181Register.status)
            if status & bits != 0 { return status }
            if clock.ticks() >= deadline { throw .timedOut }
        }
    }
}

// Outside the generic class: Swift has no static stored properties there.
enum PL181Register {
    static let power: UInt = 0x00, clock: UInt = 0x04, argument: UInt = 0x08, command: UInt = 0x0C
    static let response0: UInt = 0x14
    static let dataTimer: UInt = 0x24, dataLength: UInt = 0x28, dataControl: UInt = 0x2C
    static let status: UInt = 0x34, clear: UInt = 0x38, mask0: UInt = 0x3C, fifo: UInt = 0x80
}
enum PL181Command {
    static let response: UInt32 = 1 << 6, longResponse: UInt32 = 1 << 7, enable: UInt32 = 1 << 10
}
enum PL181Status {
    static let commandCRCFail: UInt32 = 1 << 0, dataCRCFail: UInt32 = 1 << 1
    static let commandTimeout: UInt32 = 1 << 2, dataTimeout: UInt32 = 1 << 3
    static let txUnderrun: UInt32 = 1 << 4, rxOverrun: UInt32 = 1 << 5
    static let commandResponseEnd: UInt32 = 1 << 6, commandSent: UInt32 = 1 << 7, dataEnd: UInt32 = 1 << 8
    static let txFIFOFull: UInt32 = 1 << 16, rxDataAvailable: UInt32 = 1 << 21
    static let dataErrors: UInt32 = dataCRCFail | dataTimeout | txUnderrun | rxOverrun
}
