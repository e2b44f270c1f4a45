/// A watchdog kept by reading the board's clock, so it works on any board
/// with a clock and needs no hardware watchdog.
public final class SoftwareWatchdog<C: Clock>: Watchdog {
    let clock: C
    public let timeoutMilliseconds: UInt64
    var lastFeed: UInt64

    public init(clock: C, timeoutMilliseconds: Int) {
        self.clock = clock
        self.timeoutMilliseconds = UInt64(max(1, timeoutMilliseconds))
        lastFeed = clock.now()
    }

    public var millisecondsSinceFeed: UInt64 { (clock.now() &- lastFeed) / 1_000_000 }

    public func feed() { lastFeed = clock.now() }
}
