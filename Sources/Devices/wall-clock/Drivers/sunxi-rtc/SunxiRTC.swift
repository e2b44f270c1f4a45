/// The Allwinner RTC. The date register holds day (bits 0-4), month (8-11)
/// and years since a base (16-21); the time register second (0-5), minute
/// (8-13) and hour (16-20). The A10 (sun4i) keeps them at 0x04 and 0x08
/// with years from 2010; the A31 (sun6i) and the H3 at 0x10 and 0x14 with
/// years from 1970. The fields are decoded by `SunxiRTC.time(date:time:baseYear:)`,
/// apart from the registers, so that host tests reach it.
public final class SunxiRTC: RealTimeClock {
    public let name: StaticString = "sunxi-rtc"
    let registers: MMIO
    let dateRegister: UInt
    let timeRegister: UInt
    let baseYear: Int

    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        if tree.node(at: path)?.isCompatible(with: "allwinner,sun4i-a10-rtc") == true {
            (dateRegister, timeRegister, baseYear) = (0x04, 0x08, 2010)
        } else {
            (dateRegister, timeRegister, baseYear) = (0x10, 0x14, 1970)
        }
    }

    public func read() -> UTCTime? {
        // The seconds may carry into the date between the two reads: read
        // the date again and retry once if it changed.
        var date = registers.read(dateRegister)
        var time = registers.read(timeRegister)
        let again = registers.read(dateRegister)
        if again != date {
            date = again
            time = registers.read(timeRegister)
        }
        return SunxiRTC.time(date: date, time: time, baseYear: baseYear)
    }

    /// The moment the two registers spell, or nil for an impossible date
    /// (a chip never set reads as zeros: day 0).
    public static func time(date: UInt32, time: UInt32, baseYear: Int) -> UTCTime? {
        UTCTime(year: baseYear + Int(date >> 16 & 0x3F), month: Int(date >> 8 & 0xF), day: Int(date & 0x1F),
                hour: Int(time >> 16 & 0x1F), minute: Int(time >> 8 & 0x3F), second: Int(time & 0x3F))
    }
}
