/// Text for the console, written as a string literal with interpolations,
/// and built straight into bytes.
///
/// `console.log("round \(n) of \(Keys.count)")` takes this type, not
/// String. Numbers are formatted here, and static strings are copied as
/// bytes. Strings are copied as UTF-8. So a job that prints only literals
/// and numbers links none of String's formatting and Unicode code; a value
/// of another type is printed through its `description`.
public struct ConsoleMessage: ExpressibleByStringInterpolation {
    /// The message as UTF-8.
    public let bytes: [UInt8]

    public init(stringLiteral literal: StaticString) {
        var interpolation = StringInterpolation(literalCapacity: literal.utf8CodeUnitCount, interpolationCount: 0)
        interpolation.appendLiteral(literal)
        bytes = interpolation.bytes
    }

    public init(stringInterpolation: StringInterpolation) {
        bytes = stringInterpolation.bytes
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 8 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            appendInterpolation(literal)
        }

        public mutating func appendInterpolation(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        public mutating func appendInterpolation(_ text: String) {
            // Through the contiguous bytes: walking or counting the UTF-8
            // view links String's index checks and its UTF-16 machinery.
            // The storage is there for every String that is not bridged
            // from UTF-16, and nothing bridges here (Embedded Swift, Linux).
            _ = text.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        }

        @_disfavoredOverload
        public mutating func appendInterpolation<Text: StringProtocol>(_ text: Text) {
            appendInterpolation(String(text))
        }

        /// In decimal, with a `-` when negative.
        public mutating func appendInterpolation<Number: BinaryInteger>(_ number: Number) {
            if number < 0 { bytes.append(UInt8(ascii: "-")) }
            let bits = UInt64(truncatingIfNeeded: number)
            forEachDecimalDigit(of: number < 0 ? 0 &- bits : bits) { bytes.append($0) }
        }

        public mutating func appendInterpolation(_ value: Bool) {
            appendInterpolation(value ? "true" as StaticString : "false")
        }

        public mutating func appendInterpolation<Value: CustomStringConvertible>(_ value: Value) {
            appendInterpolation(value.description)
        }
    }
}

/// Calls `body` with the ASCII digits of `value` in decimal, most significant
/// first, with no allocation (the fault report uses it too).
public func forEachDecimalDigit(of value: UInt64, _ body: (UInt8) -> Void) {
    let (quotient, remainder) = value.quotientAndRemainderDividingByTen()
    if quotient > 0 { forEachDecimalDigit(of: quotient, body) }
    body(UInt8(ascii: "0") + remainder)
}

extension UInt64 {
    /// `self / 10` and `self % 10` in 32-bit steps. ARMv7-A has no 64-bit
    /// divide, and its library routine would be linked into every image for
    /// this alone; a 32-bit division by 10 compiles to a multiplication.
    func quotientAndRemainderDividingByTen() -> (UInt64, UInt8) {
        let high = UInt32(truncatingIfNeeded: self >> 32), low = UInt32(truncatingIfNeeded: self)
        // Long division, 32 then 16 then 16 bits: each partial dividend is
        // below 10 << 16, so its quotient fits the 16 bits it fills.
        let middle = (high % 10) << 16 | low >> 16
        let bottom = (middle % 10) << 16 | (low & 0xFFFF)
        return (UInt64(high / 10) << 32 | UInt64(middle / 10) << 16 | UInt64(bottom / 10), UInt8(bottom % 10))
    }
}
