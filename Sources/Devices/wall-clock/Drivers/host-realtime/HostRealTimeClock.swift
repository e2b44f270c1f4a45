import Glibc

/// The host target's real-time clock: the host's own time of day, read once
/// when the wall clock starts (as a board's RTC chip is).
public final class HostRealTimeClock: RealTimeClock {
    public let name: StaticString = "host-realtime"

    public init(tree: DeviceTree, path: StaticString) {}

    public func read() -> UTCTime? {
        var now = timespec()
        guard clock_gettime(CLOCK_REALTIME, &now) == 0, now.tv_sec > 0 else { return nil }
        return UTCTime(secondsSinceEpoch: Int64(now.tv_sec))
    }
}
