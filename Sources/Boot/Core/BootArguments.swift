/// Boot-time keys, read from the kernel command line (`/chosen/bootargs`).
///
/// `mirage-config configure` writes the configured values there; `run -- --key=value`
/// on qemu and `setenv bootargs` on U-Boot override them without a rebuild.
/// Accepted forms: `--key=value`, `key=value`, and `--flag` (meaning `true`).
/// Later occurrences win, so an override appended at boot beats the default.
///
/// Quoting, the same as the tool's (MirageEngine's BootArgumentQuoting):
/// words are split at unquoted spaces, tabs and line breaks; a double quote
/// starts or ends a quoted run (the quotes are dropped); a backslash escapes:
/// `\\` is a backslash, `\"` a double quote, `\xHH` the byte HH; any other
/// backslash is kept as it is. So every byte string round-trips.
public struct BootArguments {
    /// (key, value) pairs in command-line order.
    public let pairs: [(key: String, value: String)]

    /// Parses a command line such as `--message="hi there" --count=3`.
    public init(_ commandLine: String) {
        var pairs: [(key: String, value: String)] = []
        for word in BootArguments.words(commandLine) {
            var text = word[...]
            while text.first == UInt8(ascii: "-") { text = text.dropFirst() }
            guard !text.isEmpty else { continue }
            if let equals = text.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append((String(decoding: text[..<equals], as: UTF8.self),
                              String(decoding: text[(equals + 1)...], as: UTF8.self)))
            } else {
                pairs.append((String(decoding: text, as: UTF8.self), "true"))
            }
        }
        self.pairs = pairs
    }

    /// The last value given for `key`, if any.
    public func value(for key: String) -> String? {
        pairs.last { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// Splits into words as the quoting above says.
    static func words(_ commandLine: String) -> [[UInt8]] {
        let bytes = Array(commandLine.utf8)
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        var inQuotes = false
        var inWord = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\\"), index < bytes.count {
                let next = bytes[index]
                if next == UInt8(ascii: "\\") || next == UInt8(ascii: "\"") {
                    current.append(next)
                    index += 1
                } else if next == UInt8(ascii: "x"), index + 2 < bytes.count, let high = hexDigit(bytes[index + 1]),
                          let low = hexDigit(bytes[index + 2]) {
                    current.append(high << 4 | low)
                    index += 3
                } else {
                    current.append(byte)
                }
                inWord = true
            } else if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
                inWord = true
            } else if !inQuotes && isSpace(byte) {
                if inWord { words.append(current); current = []; inWord = false }
            } else {
                current.append(byte)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// A value a boot-time key can hold, parsed from its text on the command line.
public protocol BootKeyValue {
    /// `nil` when `text` is not a valid value of this type.
    init?(bootArgument text: String)
}

extension String: BootKeyValue {
    public init?(bootArgument text: String) { self = text }
}

extension Int: BootKeyValue {
    /// Decimal digits with an optional leading `-`; `nil` if it does not fit an Int.
    public init?(bootArgument text: String) {
        var digits = text.utf8[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            // Built negative, so that Int.min parses too.
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.subtractingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            value = next
        }
        if negative {
            self = value
        } else {
            guard value != Int.min else { return nil }
            self = -value
        }
    }
}

extension Bool: BootKeyValue {
    public init?(bootArgument text: String) {
        switch Array(text.utf8) {
        case Array("true".utf8), Array("yes".utf8), Array("on".utf8), Array("1".utf8): self = true
        case Array("false".utf8), Array("no".utf8), Array("off".utf8), Array("0".utf8): self = false
        default: return nil
        }
    }
}
