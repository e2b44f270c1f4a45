import CFdt
import Foundation

/// A device tree held in memory, written out both as DTS text (for people)
/// and as a DTB through libfdt (for the unikernel and qemu).
public struct DeviceTreeNode {
    public var name: String
    public var properties: [(name: String, value: PropertyValue)] = []
    public var children: [DeviceTreeNode] = []

    public init(_ name: String, properties: [(name: String, value: PropertyValue)] = [], children: [DeviceTreeNode] = []) {
        self.name = name
        self.properties = properties
        self.children = children
    }

    /// DTS source text.
    public func dts(header: String) -> String {
        var text = "/dts-v1/;\n\n" + header.split(separator: "\n").map { "// \($0)\n" }.joined() + "\n"
        write(into: &text, depth: 0)
        return text
    }

    func write(into text: inout String, depth: Int) {
        let indent = String(repeating: "\t", count: depth)
        text += indent + (name.isEmpty ? "/" : name) + " {\n"
        for (name, value) in properties {
            text += indent + "\t" + name + DeviceTreeNode.dtsValue(value) + ";\n"
        }
        for (index, child) in children.enumerated() {
            if index > 0 || !properties.isEmpty { text += "\n" }
            child.write(into: &text, depth: depth + 1)
        }
        text += indent + "};\n"
    }

    static func dtsValue(_ value: PropertyValue) -> String {
        switch value {
        case .flag: return ""
        case .cells(let cells): return " = <" + cells.map { "0x" + String($0, radix: 16) }.joined(separator: " ") + ">"
        case .string(let text): return " = \"\(escape(text))\""
        case .strings(let texts): return " = " + texts.map { "\"\(escape($0))\"" }.joined(separator: ", ")
        case .bytes(let bytes): return " = [" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ") + "]"
        }
    }

    /// A DTS string literal's contents: dtc reads C escapes, so `\\`, `\"` and `\xHH`.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    escaped += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    static func bytes(_ value: PropertyValue) -> [UInt8] {
        switch value {
        case .flag: return []
        case .cells(let cells): return cells.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) }
        case .string(let text): return Array(text.utf8) + [0]
        case .strings(let texts): return texts.flatMap { Array($0.utf8) + [0] }
        case .bytes(let bytes): return bytes
        }
    }

    /// The DTB, written with libfdt's sequential-write API.
    public func dtb() throws -> Data {
        var capacity = 64 * 1024
        while capacity <= 16 << 20 {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let status = buffer.withUnsafeMutableBytes { raw -> Int32 in
                let fdt = raw.baseAddress!
                var result = fdt_create(fdt, Int32(capacity))
                if result == 0 { result = fdt_finish_reservemap(fdt) }
                if result == 0 { result = emit(into: fdt) }
                if result == 0 { result = fdt_finish(fdt) }
                return result
            }
            if status == -FDT_ERR_NOSPACE { capacity *= 4; continue }
            guard status == 0 else { throw MirageError("libfdt cannot write the device tree: \(String(cString: fdt_strerror(status)))") }
            let size = buffer.withUnsafeBytes { raw in Int(UInt32(bigEndian: raw.load(fromByteOffset: 4, as: UInt32.self))) }
            return Data(buffer[0..<size])
        }
        throw MirageError("the device tree is larger than 16 MiB")
    }

    func emit(into fdt: UnsafeMutableRawPointer) -> Int32 {
        var result = fdt_begin_node(fdt, name)
        for (name, value) in properties where result == 0 {
            let bytes = DeviceTreeNode.bytes(value)
            result = bytes.withUnsafeBytes { fdt_property(fdt, name, $0.baseAddress, Int32($0.count)) }
        }
        for child in children where result == 0 { result = child.emit(into: fdt) }
        return result == 0 ? fdt_end_node(fdt) : result
    }
}

/// Edits of an existing DTB through libfdt.
public enum DeviceTreeBlob {
    /// `dtb` with `/chosen/bootargs` set to `bootArguments`.
    public static func settingBootArguments(_ dtb: Data, to bootArguments: String) throws -> Data {
        try settingChosen(dtb, property: "bootargs", to: Data(bootArguments.utf8) + Data([0]))
    }

    /// `dtb` with the property `property` of `/chosen` set to `value`.
    public static func settingChosen(_ dtb: Data, property: String, to value: Data) throws -> Data {
        var buffer = [UInt8](repeating: 0, count: dtb.count + value.count + 1024)
        let status = dtb.withUnsafeBytes { source in
            buffer.withUnsafeMutableBytes { target -> Int32 in
                var result = fdt_open_into(source.baseAddress, target.baseAddress, Int32(target.count))
                guard result == 0 else { return result }
                var chosen = fdt_path_offset(target.baseAddress, "/chosen")
                if chosen < 0 { chosen = fdt_add_subnode(target.baseAddress, 0, "chosen") }
                guard chosen >= 0 else { return chosen }
                result = value.withUnsafeBytes { fdt_setprop(target.baseAddress, chosen, property, $0.baseAddress, Int32($0.count)) }
                return result == 0 ? fdt_pack(target.baseAddress) : result
            }
        }
        guard status == 0 else { throw MirageError("libfdt cannot edit the device tree: \(String(cString: fdt_strerror(status)))") }
        let size = buffer.withUnsafeBytes { Int(UInt32(bigEndian: $0.load(fromByteOffset: 4, as: UInt32.self))) }
        return Data(buffer[0..<size])
    }

    /// Whether libfdt accepts `dtb`'s header and its size matches.
    public static func isValid(_ dtb: Data) -> Bool {
        dtb.count >= 40 && dtb.withUnsafeBytes { raw in
            fdt_check_header(raw.baseAddress) == 0 && Int(UInt32(bigEndian: raw.load(fromByteOffset: 4, as: UInt32.self))) <= dtb.count
        }
    }

    /// `/chosen/bootargs` of `dtb`, or nil.
    public static func bootArguments(of dtb: Data) -> String? {
        dtb.withUnsafeBytes { raw -> String? in
            guard fdt_check_header(raw.baseAddress) == 0 else { return nil }
            let chosen = fdt_path_offset(raw.baseAddress, "/chosen")
            guard chosen >= 0 else { return nil }
            var length: Int32 = 0
            guard let value = fdt_getprop(raw.baseAddress, chosen, "bootargs", &length), length > 0 else { return nil }
            return String(cString: value.assumingMemoryBound(to: CChar.self))
        }
    }
}
