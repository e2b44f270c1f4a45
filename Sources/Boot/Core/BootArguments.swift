/// Boot-time keys, read from the kernel command line (`/chosen/bootargs`).
///
/// `mirage-config configure` writes the configured values there; `run -- --key=value`
/// on qemu and `setenv bootargs` on U-Boot override them without a rebuild.
/// Accepted forms: `--key=value`, `key=value`, and `--flag` (meaning `true`).
/// Later occurrences win, so an override appended at boot beats the default.
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

    /// Splits on spaces, keeping double-quoted runs together and dropping the quotes.
    static func words(_ commandLine: String) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        var inQuotes = false
        var inWord = false
        for byte in commandLine.utf8 {
            if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
                inWord = true
            } else if !inQuotes && (byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")) {
                if inWord { words.append(current); current = []; inWord = false }
            } else {
                current.append(byte)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
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
    public init?(bootArgument text: String) {
        var digits = text.utf8[...]
        var negative = false
        if digits.first == UInt8(ascii: "-") { negative = true; digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        self = negative ? -value : value
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
