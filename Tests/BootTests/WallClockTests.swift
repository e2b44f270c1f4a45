@testable import Boot
import Foundation
import XCTest

/// The calendar arithmetic real-time clocks, `--time` and X.509 dates share,
/// against Foundation's Gregorian calendar.
final class WallClockTests: XCTestCase {
    func testCalendarFieldsAgreeWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        var generator = SystemRandomNumberGenerator()
        // From 1600 (Foundation's calendar is Julian before 1582; this one is
        // proleptic Gregorian, as ISO 8601 and X.509) to 9999, with the edges:
        // the epoch, 2038's 32-bit edge, leap days.
        let edges: [Int64] = [0, -1, 86_399, 86_400, 2_147_483_647, 2_147_483_648, 951_782_400, 4_107_542_400, 253_402_300_799]
        for seconds in edges + (0..<2000).map({ _ in Int64.random(in: -11_676_096_000...253_402_300_799, using: &generator) }) {
            let time = UTCTime(secondsSinceEpoch: seconds)
            let expected = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                                   from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let f = time.fields
            XCTAssertEqual([f.year, f.month, f.day, f.hour, f.minute, f.second],
                           [expected.year, expected.month, expected.day, expected.hour, expected.minute, expected.second].map { $0! }, "\(seconds)")
            XCTAssertEqual(UTCTime(year: f.year, month: f.month, day: f.day, hour: f.hour, minute: f.minute, second: f.second), time)
            if f.year >= 1000 { XCTAssertEqual(UTCTime(text: Array(time.iso8601.utf8)), time, time.iso8601) }
        }
    }

    func testImpossibleDatesAndTextsAreRefused() {
        XCTAssertEqual(UTCTime(year: 1, month: 1, day: 1)?.secondsSinceEpoch, -62_135_596_800, "0001-01-01, proleptic Gregorian")
        XCTAssertNil(UTCTime(year: 2023, month: 2, day: 29))
        XCTAssertNotNil(UTCTime(year: 2024, month: 2, day: 29))
        XCTAssertNil(UTCTime(year: 1900, month: 2, day: 29), "1900 is not a leap year")
        XCTAssertNotNil(UTCTime(year: 2000, month: 2, day: 29), "2000 is")
        XCTAssertNil(UTCTime(year: 2026, month: 13, day: 1))
        XCTAssertNil(UTCTime(year: 2026, month: 4, day: 31))
        XCTAssertNil(UTCTime(year: 2026, month: 1, day: 1, hour: 24))
        XCTAssertNil(UTCTime(year: 2026, month: 1, day: 1, second: 60))
        XCTAssertEqual(UTCTime(text: Array("2040-02-29T23:59:58Z".utf8))?.secondsSinceEpoch, 2_214_172_798)
        XCTAssertEqual(UTCTime(text: Array("4102444800".utf8))?.iso8601, "2100-01-01T00:00:00Z")
        for text in ["", "yesterday", "2026-12-06", "2026-12-06T12:00:00", "2026-12-06T12:00:00+01:00", "2026-12-06 12:00:00Z",
                     "2026-02-30T00:00:00Z", "-5", "1234567890123"] {
            XCTAssertNil(UTCTime(text: Array(text.utf8)), text)
        }
    }

    /// The Allwinner RTC's two registers as QEMU's allwinner-rtc sets them
    /// (years from 2010 on the A10, from 1970 on the A31/H3); zeros are a
    /// clock never set.
    func testAllwinnerRegisters() {
        // 2031-02-03 04:05:06, a Monday (weekday 0 in bits 29-31).
        XCTAssertEqual(SunxiRTC.time(date: 21 << 16 | 2 << 8 | 3, time: 0 << 29 | 4 << 16 | 5 << 8 | 6, baseYear: 2010)?.iso8601,
                       "2031-02-03T04:05:06Z")
        XCTAssertEqual(SunxiRTC.time(date: 61 << 16 | 2 << 8 | 3, time: 4 << 16 | 5 << 8 | 6, baseYear: 1970)?.iso8601,
                       "2031-02-03T04:05:06Z")
        XCTAssertNil(SunxiRTC.time(date: 0, time: 0, baseYear: 2010))
        XCTAssertNil(SunxiRTC.time(date: 1 << 16 | 2 << 8 | 30, time: 0, baseYear: 2010), "February 30")
    }
}
