/// ARMv7 generic timer (Cortex-A7/A15): the 64-bit physical count CNTPCT at
/// the frequency in CNTFRQ, read through CP15. Needs no MMIO.
public final class GenericTimer: Clock {
    public let frequency: UInt64
    let start: UInt64

    /// `tree`'s `/timer` may give `clock-frequency` when firmware left CNTFRQ unset.
    public init(tree: DeviceTree, path: StaticString) {
        let programmed = UInt64(boot_cntfrq())
        frequency = programmed != 0 ? programmed : UInt64(Runtime.cell(tree, path, "clock-frequency", default: 62_500_000))
        start = boot_cntpct()
    }

    public func ticks() -> UInt64 {
        boot_cntpct() &- start
    }
}

