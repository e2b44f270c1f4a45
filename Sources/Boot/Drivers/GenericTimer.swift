/// ARMv7 generic timer (Cortex-A7/A15): the 64-bit physical count CNTPCT at
/// the frequency in CNTFRQ, read through CP15. Needs no MMIO.
public final class GenericTimer: Clock {
    let frequency: UInt64
    let start: UInt64

    /// `tree`'s `/timer` may give `clock-frequency` when firmware left CNTFRQ unset.
    public init(tree: DeviceTree, path: String) {
        let programmed = UInt64(boot_cntfrq())
        frequency = programmed != 0 ? programmed : UInt64(Runtime.cell(tree, path, "clock-frequency", default: 62_500_000))
        start = boot_cntpct()
    }

    public func now() -> UInt64 {
        ticksToNanoseconds(boot_cntpct() &- start, frequency: frequency)
    }
}

/// `ticks` at `frequency` Hz in nanoseconds, without overflowing for years.
func ticksToNanoseconds(_ ticks: UInt64, frequency: UInt64) -> UInt64 {
    let seconds = ticks / frequency
    let rest = ticks % frequency
    return seconds * 1_000_000_000 + rest * 1_000_000_000 / frequency
}

/// Extends a 32-bit down-counter that wraps to a 64-bit up-count. Read it
/// more often than once per wrap (71 minutes at 1 MHz; 179 s at 24 MHz).
struct WrappingDownCounter {
    var last: UInt32 = 0
    var elapsed: UInt64 = 0

    mutating func advance(to current: UInt32) -> UInt64 {
        elapsed &+= UInt64(last &- current)
        last = current
        return elapsed
    }
}
