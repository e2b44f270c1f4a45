/// The Allwinner A10 interrupt controller ("allwinner,sun4i-a10-ic"): three
/// banks of 32 lines; a line is delivered when it is pending, enabled and
/// not masked. Pending follows the device's level: the handler clears the
/// source.
public final class SunxiInterruptController: InterruptController {
    let registers: MMIO
    var handlers = InterruptHandlers()
    var enabled: (UInt32, UInt32, UInt32) = (0, 0, 0)
    public var spuriousInterrupts = 0
    public let cellsPerInterrupt = 1

    enum Register {
        static let pending: UInt = 0x10, enable: UInt = 0x40, mask: UInt = 0x50
    }
    static let lines: UInt32 = 96

    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        for bank in 0..<3 as Range<UInt> {
            registers.write(Register.enable + 4 * bank, 0)
            registers.write(Register.mask + 4 * bank, 0xFFFF_FFFF)
        }
    }

    public func line(fromSpecifier cells: Slice<DeviceTree.Cells>) -> UInt32? {
        guard cells.count == 1, cells[cells.startIndex] < SunxiInterruptController.lines else { return nil }
        return cells[cells.startIndex]
    }

    public func enable(_ line: UInt32, handler: @escaping () -> Void) {
        handlers.set(line, handler)
        let bank = UInt(line / 32), bit: UInt32 = 1 << (line % 32)
        registers.write(Register.enable + 4 * bank, registers.read(Register.enable + 4 * bank) | bit)
        registers.write(Register.mask + 4 * bank, registers.read(Register.mask + 4 * bank) & ~bit)
    }

    @discardableResult
    public func dispatchPending() -> Int {
        var dispatched = 0
        for bank in 0..<3 as Range<UInt32> {
            var pending = registers.read(Register.pending + 4 * UInt(bank)) & ~registers.read(Register.mask + 4 * UInt(bank))
            while pending != 0 {
                let bit = UInt32(pending.trailingZeroBitCount)
                pending &= pending - 1
                if !handlers.run(bank * 32 + bit) { spuriousInterrupts += 1 }
                dispatched += 1
            }
        }
        return dispatched
    }
}
