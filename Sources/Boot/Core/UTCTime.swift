/// A moment in UTC, in whole seconds since 1970-01-01T00:00:00Z (negative
/// before it), and the proleptic Gregorian calendar both ways. Real-time
/// clocks that count in calendar fields (the Allwinner RTCs), the `--time`
/// boot key and X.509's UTCTime and GeneralizedTime meet here. Leap seconds
/// do not exist in this count, as in POSIX time.
public struct UTCTime: Comparable, Hashable {
    public var secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    /// The moment of a calendar date and time of day; nil when a field is
    /// out of its range (month 13, February 30, hour 24, second 60).
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...UTCTime.daysIn(month: month, year: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        let days = UTCTime.daysSinceEpoch(year: year, month: month, day: day)
        secondsSinceEpoch = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// `2026-12-06T12:30:00Z` (ISO 8601 / RFC 3339 in UTC, `Z` required) or
    /// decimal seconds since the epoch; nil for anything else.
    public init?(text: [UInt8]) {
        func number(_ range: Range<Int>) -> Int64? { range.upperBound <= text.count ? UTCTime.decimal(text[range]) : nil }
        func digits(_ range: Range<Int>) -> Int? { number(range).map { Int($0) } }
        if !text.isEmpty, text.count <= 12, let seconds = number(0..<text.count) {
            self.init(secondsSinceEpoch: seconds)
            return
        }
        guard text.count == 20, text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: "T"),
              text[13] == UInt8(ascii: ":"), text[16] == UInt8(ascii: ":"), text[19] == UInt8(ascii: "Z"),
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19) else { return nil }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// The value of decimal digits (at most 18), nil for anything else; Int64,
    /// not Int: seconds past 2038 overflow a 32-bit Int on the board.
    public static func decimal(_ digits: ArraySlice<UInt8>) -> Int64? {
        guard digits.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The calendar fields of this moment.
    public var fields: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let secondOfDay = Int(secondsSinceEpoch - days * 86_400)
        let date = UTCTime.civil(daysSinceEpoch: days)
        return (date.year, date.month, date.day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    /// `2026-12-06T12:30:00Z`.
    public var iso8601: String {
        let f = fields
        func two(_ n: Int) -> String { n < 10 ? "0" + String(n) : String(n) }
        let year = String(f.year)
        return String(repeating: "0", count: max(0, 4 - year.utf8.count)) + year + "-" + two(f.month) + "-" + two(f.day)
            + "T" + two(f.hour) + ":" + two(f.minute) + ":" + two(f.second) + "Z"
    }

    public static func < (a: UTCTime, b: UTCTime) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the date, by counting in 400-year eras of
    /// 146,097 days whose years start in March (so that a leap day is the
    /// era-year's last): no table and no loop.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `daysSinceEpoch`.
    static func civil(daysSinceEpoch days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
