/// Allwinner A10 timer block ("allwinner,sun4i-a10-timer"): timer 0 counts
/// down from 0xFFFFFFFF, reloading, from the 24 MHz oscillator.
public final class SunxiTimer: Clock {
    let registers: MMIO
    public let frequency: UInt64 = 24_000_000
    var counter = WrappingDownCounter()

    enum Register {
        static let control: UInt = 0x10
        static let interval: UInt = 0x14
        static let current: UInt = 0x18
    }
    static let enable: UInt32 = 1 << 0
    static let reload: UInt32 = 1 << 1
    static let sourceOSC24M: UInt32 = 1 << 2

    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        registers.write(Register.control, 0)
        registers.write(Register.interval, 0xFFFF_FFFF)
        registers.write(Register.control, SunxiTimer.sourceOSC24M | SunxiTimer.reload)
        registers.write(Register.control, SunxiTimer.sourceOSC24M | SunxiTimer.reload | SunxiTimer.enable)
        counter.last = registers.read(Register.current)
    }

    public func ticks() -> UInt64 {
        counter.advance(to: registers.read(Register.current))
    }
}
