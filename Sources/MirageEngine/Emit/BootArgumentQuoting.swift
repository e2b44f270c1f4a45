/// How boot-time keys are written into `/chosen/bootargs`, so that the
/// runtime's parser (Sources/Boot/Core/BootArguments.swift) reads back
/// exactly the value given, whatever bytes it holds: a value of plain
/// characters is written as it is; any other is double-quoted, with `\\`,
/// `\"` and `\xHH` for backslashes, quotes and control bytes.
public enum BootArgumentQuoting {
    /// The kernel command line for these keys, in order.
    public static func commandLine(_ keys: [(name: String, value: String)]) -> String {
        keys.map { argument($0.name, $0.value) }.joined(separator: " ")
    }

    /// `--name=value`, quoted as needed.
    public static func argument(_ name: String, _ value: String) -> String {
        "--\(name)=" + quote(value)
    }

    /// Bytes that never need quoting.
    static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "._,:/@+=%-".utf8.contains(byte)
        }
    }

    public static func quote(_ value: String) -> String {
        let bytes = Array(value.utf8)
        if !bytes.isEmpty, bytes.allSatisfy(isPlain) { return value }
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                quoted += [UInt8(ascii: "\\"), byte]
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                quoted += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                quoted.append(byte)    // spaces and UTF-8 beyond ASCII stand as they are inside quotes
            }
        }
        quoted.append(UInt8(ascii: "\""))
        return String(decoding: quoted, as: UTF8.self)
    }
}
