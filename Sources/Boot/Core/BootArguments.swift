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
///
/// It works over the blob's bytes and builds no String, so that an image
/// whose keys are numbers and flags carries none of String's code.
public struct BootArguments {
    /// The command line's bytes, up to its NUL.
    public let bytes: UnsafeRawBufferPointer

    /// A command line, such as a `bootargs` value with its closing NUL.
    public init(bytes: UnsafeRawBufferPointer) {
        var end = 0
        while end < bytes.count && bytes[end] != 0 { end += 1 }
        self.bytes = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
    }

    /// The last value given for `key`, unquoted, if any (`[116, 114, 117, 101]`,
    /// "true", for a bare `--flag`).
    public func value(for key: StaticString) -> [UInt8]? {
        var found: [UInt8]?
        forEachPair { word, equals in
            let name = keyStart(word)..<(equals ?? word.count)
            guard word.withUnsafeBytes({ key.isSpelled(by: UnsafeRawBufferPointer(start: $0.baseAddress.map { $0 + name.lowerBound },
                                                                                count: name.count)) }) else { return }
            if let equals {
                found = Array(word[(equals + 1)...])
            } else {
                found = [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")]
            }
        }
        return found
    }

    /// How many key words the line holds (a word of dashes alone is none).
    public var count: Int {
        var count = 0
        forEachPair { _, _ in count += 1 }
        return count
    }

    /// Where a word's key begins, past its leading dashes.
    func keyStart(_ word: [UInt8]) -> Int {
        var start = 0
        while start < word.count && word[start] == UInt8(ascii: "-") { start += 1 }
        return start
    }

    /// Calls `body` with each unquoted word that names a key, and the index
    /// of its first `=` if it has one.
    func forEachPair(_ body: ([UInt8], Int?) -> Void) {
        forEachWord { word in
            let start = keyStart(word)
            guard start < word.count else { return }
            var equals: Int?
            for index in start..<word.count where word[index] == UInt8(ascii: "=") { equals = index; break }
            body(word, equals)
        }
    }

    /// Splits into words as the quoting above says, and calls `body` with
    /// each, unquoted; one buffer serves every word.
    func forEachWord(_ body: ([UInt8]) -> Void) {
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
                } else if next == UInt8(ascii: "x"), index + 2 < bytes.count, let high = BootArguments.hexDigit(bytes[index + 1]),
                          let low = BootArguments.hexDigit(bytes[index + 2]) {
                    current.append(high << 4 | low)
                    index += 3
                } else {
                    current.append(byte)
                }
                inWord = true
            } else if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
                inWord = true
            } else if !inQuotes && BootArguments.isSpace(byte) {
                if inWord { body(current); current.removeAll(keepingCapacity: true); inWord = false }
            } else {
                current.append(byte)
                inWord = true
            }
        }
        if inWord { body(current) }
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

/// A value a boot-time key can hold, parsed from its bytes on the command line.
public protocol BootKeyValue {
    /// `nil` when `bytes` are not a valid value of this type.
    init?(bootArgument bytes: [UInt8])
}

extension String: BootKeyValue {
    /// The bytes, if they are valid UTF-8. (Refusing rather than repairing
    /// keeps String's repair code, and the UTF-16 machinery it reaches, out
    /// of the image.)
    public init?(bootArgument bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        self = text
    }
}

extension Int: BootKeyValue {
    /// Decimal digits with an optional leading `-`; `nil` if it does not fit an Int.
    public init?(bootArgument bytes: [UInt8]) {
        let negative = bytes.first == UInt8(ascii: "-")
        let first = negative ? 1 : 0
        guard first < bytes.count else { return nil }
        var value = 0
        for digit in bytes[first...] {
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
    public init?(bootArgument bytes: [UInt8]) {
        func equals(_ word: StaticString) -> Bool { bytes.withUnsafeBytes { word.isSpelled(by: $0) } }
        if equals("true") || equals("yes") || equals("on") || equals("1") {
            self = true
        } else if equals("false") || equals("no") || equals("off") || equals("0") {
            self = false
        } else {
            return nil
        }
    }
}
