import Glibc

/// The host target's clock: the monotonic clock, in nanoseconds since the
/// unikernel started. Sleeping is `ppoll` on the host events until the
/// deadline, so an idle host unikernel uses no CPU.
public final class HostClock: Clock {
    public var frequency: UInt64 { 1_000_000_000 }
    let start: UInt64
    let events: HostEvents

    public init(tree: DeviceTree, path: StaticString, events: HostEvents) {
        self.events = events
        start = HostClock.monotonic()
    }

    static func monotonic() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    public func ticks() -> UInt64 { HostClock.monotonic() &- start }

    public func waitForInterrupt(orTicks deadline: UInt64) {
        let now = ticks()
        events.wait(nanoseconds: deadline > now ? deadline - now : 0)
    }
}
