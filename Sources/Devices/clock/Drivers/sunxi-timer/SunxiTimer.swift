/// Allwinner A10 timer block ("allwinner,sun4i-a10-timer"): timer 0 counts
/// down from 0xFFFFFFFF, reloading, from the 24 MHz oscillator; timer 1,
/// single-shot, is the alarm (the node's second interrupt).
public final class SunxiTimer<Interrupts: InterruptController>: Clock {
    let registers: MMIO
    public let frequency: UInt64 = 24_000_000
    var counter = WrappingDownCounter()
    let interrupts: Interrupts

    enum Register {
        static var interruptEnable: UInt { 0x00 }
        static var interruptStatus: UInt { 0x04 }
        static var control: UInt { 0x10 }
        static var interval: UInt { 0x14 }
        static var current: UInt { 0x18 }
        /// Timer 1's registers follow timer 0's.
        static var alarm: UInt { 0x10 }
    }
    static var enable: UInt32 { 1 << 0 }
    static var reload: UInt32 { 1 << 1 }
    static var sourceOSC24M: UInt32 { 1 << 2 }
    static var singleShot: UInt32 { 1 << 7 }
    static var alarmBit: UInt32 { 1 << 1 }

    public init(tree: DeviceTree, path: StaticString, interrupts: Interrupts) {
        let registers = MMIO(base: Runtime.registerBase(tree, path))
        self.registers = registers
        self.interrupts = interrupts
        registers.write(Register.control, 0)
        registers.write(Register.interval, 0xFFFF_FFFF)
        registers.write(Register.control, SunxiTimer.sourceOSC24M | SunxiTimer.reload)
        registers.write(Register.control, SunxiTimer.sourceOSC24M | SunxiTimer.reload | SunxiTimer.enable)
        counter.last = registers.read(Register.current)
        registers.write(Register.alarm + Register.control, 0)
        registers.write(Register.interruptStatus, SunxiTimer.alarmBit)
        registers.write(Register.interruptEnable, SunxiTimer.alarmBit)
        interrupts.enable(interrupts.line(of: tree, path, index: 1)) {
            registers.write(Register.interruptStatus, SunxiTimer.alarmBit)
        }
    }

    public func ticks() -> UInt64 {
        counter.advance(to: registers.read(Register.current))
    }

    public func waitForInterrupt(orTicks deadline: UInt64) {
        let now = ticks()
        let delay = deadline > now ? min(deadline - now, 0xFFFF_FFFF) : 1
        let control = Register.alarm + Register.control
        registers.write(control, 0)
        registers.write(Register.alarm + Register.interval, UInt32(delay))
        registers.write(control, SunxiTimer.sourceOSC24M | SunxiTimer.singleShot | SunxiTimer.reload)
        registers.write(control, SunxiTimer.sourceOSC24M | SunxiTimer.singleShot | SunxiTimer.reload | SunxiTimer.enable)
        interrupts.waitForInterrupt()
    }
}
