/// ARM SP804 dual timer (vexpress-a9): timer 1 free-running down from
/// 0xFFFFFFFF at the node's `clock-frequency` (1 MHz under qemu) is the
/// count; timer 2, one-shot, is the alarm (both share the node's interrupt).
public final class SP804<Interrupts: InterruptController>: Clock {
    let registers: MMIO
    public let frequency: UInt64
    var counter = WrappingDownCounter()
    let interrupts: Interrupts

    enum Register {
        static var load: UInt { 0x00 }
        static var value: UInt { 0x04 }
        static var control: UInt { 0x08 }
        /// Timer 2's registers follow timer 1's.
        static var alarm: UInt { 0x20 }
        static var interruptClear: UInt { 0x0C }
    }
    static var enable: UInt32 { 1 << 7 }
    static var interruptEnable: UInt32 { 1 << 5 }
    static var size32Bit: UInt32 { 1 << 1 }
    static var oneShot: UInt32 { 1 << 0 }

    public init(tree: DeviceTree, path: StaticString, interrupts: Interrupts) {
        let registers = MMIO(base: Runtime.registerBase(tree, path))
        self.registers = registers
        frequency = UInt64(Runtime.cell(tree, path, "clock-frequency", default: 1_000_000))
        self.interrupts = interrupts
        registers.write(Register.control, 0)
        registers.write(Register.load, 0xFFFF_FFFF)
        registers.write(Register.control, SP804.enable | SP804.size32Bit)   // free-running, no interrupt
        registers.write(Register.alarm + Register.control, 0)
        registers.write(Register.alarm + Register.interruptClear, 1)
        counter.last = registers.read(Register.value)
        interrupts.enable(interrupts.line(of: tree, path)) {
            registers.write(Register.alarm + Register.interruptClear, 1)
        }
    }

    public func ticks() -> UInt64 {
        counter.advance(to: registers.read(Register.value))
    }

    public func waitForInterrupt(orTicks deadline: UInt64) {
        let now = ticks()
        let delay = deadline > now ? min(deadline - now, 0xFFFF_FFFF) : 1
        registers.write(Register.alarm + Register.control, 0)
        registers.write(Register.alarm + Register.load, UInt32(delay))
        registers.write(Register.alarm + Register.control, SP804.enable | SP804.interruptEnable | SP804.size32Bit | SP804.oneShot)
        interrupts.waitForInterrupt()
    }
}
