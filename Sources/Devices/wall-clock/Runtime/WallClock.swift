// What a unikernel sees of the time of day: the wall-clock device.

/// UTC time: read once from a real-time clock (or the `--time` boot key)
/// when the unikernel starts, then carried forward by the monotonic clock,
/// so that it never goes backwards while the unikernel runs.
public protocol WallClock: AnyObject {
    /// Now, or nil when the unikernel has no trusted time: no real-time
    /// clock, no `--time`, or a clock that reads as not set.
    func now() -> UTCTime?
    /// Where the time came from ("pl031", "sunxi-rtc", "boot key"), or why there is none.
    var source: String { get }
}

/// A real-time clock chip: the wall clock reads it once at start.
public protocol RealTimeClock: AnyObject {
    var name: StaticString { get }
    /// The chip's time, or nil when it reads as never set or invalid.
    func read() -> UTCTime?
}
