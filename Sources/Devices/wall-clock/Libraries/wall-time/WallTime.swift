/// UTC time as the boot key `--time` or a real-time clock gave it at start,
/// plus the monotonic clock's seconds since: reading the chip once keeps
/// its slow registers off every call, and the time never steps backwards.
public final class WallTime<C: Clock>: WallClock {
    let clock: C
    /// The time at `startTicks`, if known.
    var start: UTCTime?
    var startTicks: UInt64 = 0
    public private(set) var source: String

    /// Stops the unikernel with a message when `bootKey` is given and is
    /// not a time: a mistyped time must not pass for "no time".
    public init(clock: C, bootKey: String) {
        self.clock = clock
        source = "none (no real-time clock; give --time=YYYY-MM-DDTHH:MM:SSZ)"
        guard !bootKey.isEmpty else { return }
        guard let time = UTCTime(text: Array(bootKey.utf8)) else {
            Runtime.fatal("--time must be a UTC time such as 2026-12-06T12:00:00Z, or seconds since 1970, not ", text: bootKey)
        }
        start = time
        startTicks = clock.ticks()
        source = "boot key"
    }

    /// Takes the time from `rtc` unless the boot key gave one already.
    public func adopt<R: RealTimeClock>(_ rtc: R) {
        guard start == nil else { return }
        guard let time = rtc.read() else {
            source = "none (" + rtc.name.text + " is not set; give --time=YYYY-MM-DDTHH:MM:SSZ)"
            return
        }
        start = time
        startTicks = clock.ticks()
        source = rtc.name.text
    }

    public func now() -> UTCTime? {
        guard let start else { return nil }
        let elapsed = (clock.ticks() - startTicks) / clock.frequency
        return UTCTime(secondsSinceEpoch: start.secondsSinceEpoch + Int64(elapsed))
    }
}
