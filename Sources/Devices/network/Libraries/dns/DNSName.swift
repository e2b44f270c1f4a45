/// A domain name as its labels (RFC 1035 3.1): each 1 to 63 bytes, at most
/// 255 bytes on the wire with the root's zero byte. Compared and looked up
/// without regard to ASCII case (RFC 4343); the bytes are kept as written,
/// so an answer repeats the question's spelling.
public struct DNSName: Equatable {
    public private(set) var labels: [[UInt8]]

    public static let root = DNSName(checked: [])
    public static let maximumWireLength = 255
    public static let maximumLabelLength = 63

    /// nil if a label is empty or too long, or the name too long.
    public init?(labels: [[UInt8]]) {
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= DNSName.maximumLabelLength }),
              DNSName.wireLength(of: labels) <= DNSName.maximumWireLength else { return nil }
        self.labels = labels
    }

    init(checked labels: [[UInt8]]) { self.labels = labels }

    static func wireLength(of labels: [[UInt8]]) -> Int { labels.reduce(1) { $0 + 1 + $1.count } }
    public var wireLength: Int { DNSName.wireLength(of: labels) }
    public var isRoot: Bool { labels.isEmpty }

    /// The name with its first label taken off (the root stays the root).
    public var parent: DNSName { DNSName(checked: Array(labels.dropFirst())) }

    /// `label` in front of this name, nil if that is too long.
    public func prepending(_ label: [UInt8]) -> DNSName? { DNSName(labels: [label] + labels) }

    /// This name with `suffix`'s labels after it, nil if that is too long.
    public func appending(_ suffix: DNSName) -> DNSName? { DNSName(labels: labels + suffix.labels) }

    /// The same name in lower case: a key for lookups.
    public var canonical: DNSName { DNSName(checked: labels.map { $0.map(DNSName.lowercase) }) }

    public static func == (left: DNSName, right: DNSName) -> Bool {
        guard left.labels.count == right.labels.count else { return false }
        for (a, b) in zip(left.labels, right.labels) where !DNSName.sameLabel(a, b) { return false }
        return true
    }

    static func sameLabel(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where lowercase(a[index]) != lowercase(b[index]) { return false }
        return true
    }

    static func lowercase(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }

    /// Whether this name is `other` or below it.
    public func isSubdomain(of other: DNSName) -> Bool {
        guard labels.count >= other.labels.count else { return false }
        let offset = labels.count - other.labels.count
        for index in 0..<other.labels.count where !DNSName.sameLabel(labels[offset + index], other.labels[index]) { return false }
        return true
    }

    /// The last `count` labels.
    public func suffix(_ count: Int) -> DNSName { DNSName(checked: Array(labels.suffix(count))) }

    /// "www.example.org." with RFC 1035's escapes for dots, backslashes,
    /// quotes, spaces and bytes that are not printable ("\DDD").
    public var text: String {
        if labels.isEmpty { return "." }
        var bytes: [UInt8] = []
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                     UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    bytes += [UInt8(ascii: "\\"), byte]
                case 33...126:
                    bytes.append(byte)
                default:
                    bytes.append(UInt8(ascii: "\\"))
                    bytes += [48 + byte / 100, 48 + byte / 10 % 10, 48 + byte % 10]
                }
            }
            bytes.append(UInt8(ascii: "."))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A name as a master file writes it: absolute with a final dot, else
    /// relative to `origin`; "@" is the origin itself. nil (with the
    /// reason) for an empty label, a bad escape or a name too long.
    public static func parse(_ text: [UInt8], origin: DNSName?) -> Result<DNSName, DNSTextError> {
        if text == [UInt8(ascii: "@")] {
            guard let origin else { return .failure(DNSTextError("\"@\" needs an $ORIGIN")) }
            return .success(origin)
        }
        if text == [UInt8(ascii: ".")] { return .success(.root) }
        var labels: [[UInt8]] = []
        var label: [UInt8] = []
        var absolute = false
        var index = 0
        while index < text.count {
            let byte = text[index]
            index += 1
            if byte == UInt8(ascii: ".") {
                guard !label.isEmpty else { return .failure(DNSTextError("an empty label in \"\(String(decoding: text, as: UTF8.self))\"")) }
                labels.append(label)
                label = []
                if index == text.count { absolute = true }
                continue
            }
            if byte == UInt8(ascii: "\\") {
                guard index < text.count else { return .failure(DNSTextError("a name ends in a backslash")) }
                if DNSText.isDigit(text[index]) {
                    guard index + 3 <= text.count, DNSText.isDigit(text[index + 1]), DNSText.isDigit(text[index + 2]) else {
                        return .failure(DNSTextError("\\DDD needs three digits"))
                    }
                    let value = Int(text[index] - 48) * 100 + Int(text[index + 1] - 48) * 10 + Int(text[index + 2] - 48)
                    guard value <= 255 else { return .failure(DNSTextError("\\\(value) is more than a byte")) }
                    label.append(UInt8(value))
                    index += 3
                } else {
                    label.append(text[index])
                    index += 1
                }
                continue
            }
            label.append(byte)
        }
        if !label.isEmpty { labels.append(label) }
        guard labels.allSatisfy({ $0.count <= maximumLabelLength }) else {
            return .failure(DNSTextError("a label longer than 63 bytes"))
        }
        if !absolute {
            guard let origin else { return .failure(DNSTextError("the relative name \"\(String(decoding: text, as: UTF8.self))\" needs an $ORIGIN")) }
            labels += origin.labels
        }
        guard let name = DNSName(labels: labels) else { return .failure(DNSTextError("a name longer than 255 bytes")) }
        return .success(name)
    }

    /// Letters, digits, hyphens and dots only, as RFC 1123 host names (and
    /// IPv4 addresses) are written: no escapes, spaces or control bytes.
    public static func isHostNameText(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { byte in
            (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 45 || byte == 46
        }
    }

    /// An absolute name's text (a final dot is optional); nil if it does not parse.
    public init?(_ text: String) {
        var bytes = Array(text.utf8)
        if bytes.last != UInt8(ascii: ".") { bytes.append(UInt8(ascii: ".")) }
        guard case .success(let name) = DNSName.parse(bytes, origin: nil) else { return nil }
        self = name
    }
}

/// Why a master file's text (or a name's) does not parse.
public struct DNSTextError: Error, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

enum DNSText {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}
