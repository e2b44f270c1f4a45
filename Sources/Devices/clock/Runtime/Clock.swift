// What a unikernel sees of its clock: drivers conform to Clock.

/// A monotonic clock with a sleep, from the board's timer. A driver gives
/// its tick count and rate, and an alarm that wakes the CPU; nanoseconds
/// and sleeping are derived here. The loop keeps its deadlines in the
/// ticks of the clock the glue attached (`Tasks.attach(clock:)`).
public protocol Clock: AnyObject {
    /// Ticks per second.
    var frequency: UInt64 { get }
    /// Ticks since the clock was started; never goes backwards.
    func ticks() -> UInt64
    /// Sleeps in `wfi` until `ticks()` reaches `deadline` (an alarm
    /// interrupt) or another interrupt arrives, whose handler then runs.
    /// Only the loop calls it, when no task is ready: a task that waits
    /// parks (`Tasks.sleep`, `WaitQueue`) and lets the others run.
    func waitForInterrupt(orTicks deadline: UInt64)
}

extension Clock {
    /// Nanoseconds since the clock was started; never goes backwards.
    public func now() -> UInt64 { ticksToNanoseconds(ticks(), frequency: frequency) }

    /// Nanoseconds per tick.
    public var resolution: UInt64 { max(1, 1_000_000_000 / frequency) }

    /// `nanoseconds` in ticks, rounded up.
    public func ticks(forNanoseconds nanoseconds: UInt64) -> UInt64 {
        let whole = nanoseconds / 1_000_000_000 * frequency
        return whole + (nanoseconds % 1_000_000_000 * frequency + 999_999_999) / 1_000_000_000
    }

    /// Waits at least `nanoseconds`: the task parks and the others run (the
    /// CPU sleeps if none is ready). Returns early if the task is cancelled.
    public func sleep(nanoseconds: UInt64) {
        try? Tasks.sleep(nanoseconds: nanoseconds)
    }

    /// Waits at least `milliseconds`.
    public func sleep(milliseconds: UInt64) { sleep(nanoseconds: milliseconds * 1_000_000) }
}
