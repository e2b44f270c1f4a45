// Helpers that the timer drivers and the Clock extension share.

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
