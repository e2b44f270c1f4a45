// The wall clock: what time it is in UTC, for certificates' validity dates and
// for logs, from the board's real-time clock or from a boot key.

extension DeviceType {
    /// UTC time for the job: `wallClock: some WallClock`.
    public static let wallClock = DeviceType("wall-clock")
    /// A real-time clock chip the wall clock reads at start: the PL031 on
    /// virt and vexpress-a9, the Allwinner RTC on the Cubieboard and the Orange Pi PC.
    public static let realTimeClock = DeviceType("rtc")
}

/// `--time=2026-12-06T12:00:00Z` (or seconds since 1970): the time at boot,
/// for a board without a real-time clock or one whose clock is not set.
public let bootTime = Key.boot("time", doc: "UTC time at boot (2026-12-06T12:00:00Z or seconds since 1970); overrides the board's real-time clock",
                               default: "")

/// The board's real-time clock, if it has one (QEMU sets it to the host's
/// time, or to `-rtc base=`), else none; `--time` overrides it at boot. With
/// neither, `now()` is nil and says so: a TLS client then refuses to check a
/// certificate's dates rather than skip them silently.
public let defaultWallClock = Device(.wallClock, name: "wallClock", implementation: .driver("wall-time"),
                                     arguments: [defaultClock, .optional(Device(.realTimeClock, name: "rtc", implementation: .boardDefault))],
                                     keys: [bootTime.declaration])
