/// ARM PL031 real-time clock: its data register counts seconds since
/// 1970-01-01 (QEMU starts it at the host's time, or at `-rtc base=`).
/// A count of zero is a clock never set since power-up.
public final class PL031: RealTimeClock {
    public let name: StaticString = "pl031"
    let registers: MMIO

    enum Register {
        static var data: UInt { 0x00 }
        static var control: UInt { 0x0C }
    }

    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        // Start the counter if the boot loader has not (writing 1 again is harmless).
        registers.write(Register.control, 1)
    }

    public func read() -> UTCTime? {
        let seconds = registers.read(Register.data)
        guard seconds != 0 else { return nil }
        return UTCTime(secondsSinceEpoch: Int64(seconds))
    }
}
