/// ARM SP804 dual timer (vexpress-a9), timer 1 free-running down from
/// 0xFFFFFFFF at the node's `clock-frequency` (1 MHz under qemu).
public final class SP804: Clock {
    let registers: MMIO
    public let frequency: UInt64
    var counter = WrappingDownCounter()

    enum Register {
        static let load: UInt = 0x00
        static let value: UInt = 0x04
        static let control: UInt = 0x08
    }
    static let enable: UInt32 = 1 << 7
    static let size32Bit: UInt32 = 1 << 1

    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        frequency = UInt64(Runtime.cell(tree, path, "clock-frequency", default: 1_000_000))
        registers.write(Register.control, 0)
        registers.write(Register.load, 0xFFFF_FFFF)
        registers.write(Register.control, SP804.enable | SP804.size32Bit)   // free-running, no interrupt
        counter.last = registers.read(Register.value)
    }

    public func ticks() -> UInt64 {
        counter.advance(to: registers.read(Register.value))
    }
}
