import Foundation
/// What a key's value may be, checked on the host before it reaches
/// generated code or a device tree, for configure-time and boot-time keys alike.
public enum KeyValues {
    /// An Int on the unikernel's side: Swift's Int on 32-bit ARM.
    public static let targetInts = Int(Int32.min)...Int(Int32.max)

    public static let trueWords = ["true", "yes", "on", "1"]
    public static let falseWords = ["false", "no", "off", "0"]

    /// Why `text` is not a value of a key of this type and these limits, or nil.
    public static func problem(with text: String, type: ConfigModel.KeyType, minimum: Int?, maximum: Int?,
                               choices: [String]?, format: String? = nil) -> String? {
        switch type {
        case .string:
            if let choices, !choices.contains(text) { return "it is one of: \(choices.joined(separator: ", "))" }
            if let format { return KeyFormat.problem(with: text, format: format) }
            return nil
        case .bool:
            return trueWords.contains(text) || falseWords.contains(text) ? nil : "it is true or false"
        case .int:
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), let number = Int(text) else {
                return "it is a whole number, such as 3 (digits, with a '-' if negative)"
            }
            let range = max(minimum ?? targetInts.lowerBound, targetInts.lowerBound)...min(maximum ?? targetInts.upperBound, targetInts.upperBound)
            guard range.contains(number) else {
                return minimum == nil && maximum == nil
                    ? "it is a 32-bit whole number (an Int on ARM): \(targetInts.lowerBound)...\(targetInts.upperBound)"
                    : "it lies in \(range.lowerBound)...\(range.upperBound)"
            }
            return nil
        }
    }
}

extension KeyValues {
    /// Why keys whose formats relate them (a gateway and the address it
    /// serves) do not work together; `keys` are (name, format, value).
    public static func relationProblem(_ keys: [(name: String, format: String?, value: String)]) -> (key: String, text: String)? {
        for key in keys {
            guard let format = key.format, format.hasPrefix("ipv4-gateway-of:"), !key.value.isEmpty else { continue }
            let other = String(format.dropFirst("ipv4-gateway-of:".count))
            guard let host = keys.first(where: { $0.name == other }), host.value != "dhcp",
                  let (address, length) = KeyFormat.ipv4Prefixed(host.value), let gateway = KeyFormat.ipv4(key.value) else { continue }
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
            if gateway & mask != address & mask {
                return (key.name, "--\(key.name) \(key.value) is not on the network of --\(other) \(host.value): the host could not reach it")
            }
            if gateway == address { return (key.name, "--\(key.name) \(key.value) is the host's own address (--\(other))") }
        }
        return nil
    }
}

/// Forms a String key's text may be required to have, checked on the host
/// before the value reaches a device tree. A form names no device: it is a
/// kind of value, as Int and Bool are.
public enum KeyFormat {
    static func problem(with text: String, format: String) -> String? {
        switch format {
        case "ipv4-host-or-dhcp":
            if text == "dhcp" { return nil }
            guard let (address, length) = ipv4Prefixed(text) else { return "it is an address/prefix such as 10.0.2.15/24, or dhcp" }
            guard length > 0 else { return "a prefix of 0 is every address: give the network's, such as /24" }
            guard address != 0 else { return "0.0.0.0 is no host's address" }
            if length <= 30 {
                let hostBits = ~(~UInt32(0) << UInt32(32 - length))
                if address & hostBits == 0 { return "it is the network's own address, not a host's: the host part is all zeros" }
                if address & hostBits == hostBits { return "it is the network's broadcast address, not a host's" }
            }
            return nil
        case "ipv6-setting":
            if text == "auto" || text == "off" { return nil }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, ipv6(String(parts[0])), let length = Int(parts[1]), parts[1].count <= 3, (1...128).contains(length) else {
                return "it is auto, off, or an address/prefix such as 2001:db8::5/64"
            }
            return nil
        case "name-servers":
            if text.isEmpty { return nil }
            for part in text.split(separator: ",", omittingEmptySubsequences: false) where nameServer(String(part)) == nil {
                return "it is a comma-separated list of name servers, each an address with an optional port: "
                    + "10.0.2.3, 10.0.2.2:5353, 2001:db8::53 or [2001:db8::53]:5353 (\(String(reflecting: String(part))) is none)"
            }
            return nil
        case "hosts-table":
            if text.isEmpty { return nil }
            for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = entry.split(separator: "=", omittingEmptySubsequences: false)
                let nameFits = parts.first.map { written in
                    let name = written.hasSuffix(".") ? written.dropLast() : written
                    return !name.isEmpty && name.utf8.count <= 253 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
                        && !name.split(separator: ".", omittingEmptySubsequences: false).contains { $0.isEmpty || $0.count > 63 }
                } ?? false
                guard parts.count == 2, nameFits, ipv4(String(parts[1])) != nil || ipv6(String(parts[1])) else {
                    return "it is a comma-separated list of name=address entries, such as www.example.test=192.0.2.10,www.example.test=2001:db8::10 "
                        + "(\(String(reflecting: String(entry))) is none)"
                }
            }
            return nil
        case "git-url":
            return gitURL(text) ? nil : "it is a git repository's URL, git://HOST[:PORT]/PATH (git daemon) or http://HOST[:PORT]/PATH (smart HTTP), such as git://10.0.2.2/site.git or http://[2001:db8::1]:8080/site"
        case "ipv6-address-or-empty":
            return text.isEmpty || ipv6(text) ? nil : "it is an IPv6 address such as fe80::1, or empty"
        default:
            if format.hasPrefix("ipv4-gateway-of:") {
                return text.isEmpty || ipv4(text) != nil ? nil : "it is an IPv4 address such as 10.0.2.2, or empty for none"
            }
            return nil
        }
    }

    /// git://HOST[:PORT]/PATH or http://...: a host name, an IPv4 address or
    /// a bracketed IPv6 one; a port of 1-65535; a path of printable ASCII without spaces.
    static func gitURL(_ text: String) -> Bool {
        guard let scheme = ["git://", "http://"].first(where: { text.hasPrefix($0) }) else { return false }
        let rest = text.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else { return false }
        var host = rest[..<slash]
        let path = rest[slash...]
        guard path.count > 1, path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return false }
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), port(after.dropFirst()) != nil else { return false }
            }
            return ipv6(String(host[host.index(after: host.startIndex)..<close]))
        }
        if let colon = host.firstIndex(of: ":") {
            guard port(host[host.index(after: colon)...]) != nil else { return false }
            host = host[..<colon]
        }
        if ipv4(String(host)) != nil { return true }
        return !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    /// A port written as 1 to 5 digits, 1...65535; nil if it is not one.
    static func port(_ digits: Substring) -> Int? {
        guard (1...5).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }), let port = Int(digits),
              (1...65_535).contains(port) else { return nil }
        return port
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ ("0"..."9").contains($0) }), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// "10.0.2.3", "10.0.2.2:5353", "2001:db8::53" or "[2001:db8::53]:5353"; nil if not one of those.
    static func nameServer(_ text: String) -> (address: String, port: Int)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            let address = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close]), rest = trimmed[trimmed.index(after: close)...]
            guard ipv6(address) else { return nil }
            if rest.isEmpty { return (address, 53) }
            guard rest.hasPrefix(":"), let number = port(rest.dropFirst()) else { return nil }
            return (address, number)
        }
        if ipv6(trimmed) || ipv4(trimmed) != nil { return (trimmed, 53) }
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, ipv4(String(parts[0])) != nil, let number = port(parts[1]) else { return nil }
        return (String(parts[0]), number)
    }

    static func ipv4Prefixed(_ text: String) -> (UInt32, Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = ipv4(String(parts[0])), (1...2).contains(parts[1].count),
              parts[1].allSatisfy({ ("0"..."9").contains($0) }), let length = Int(parts[1]), length <= 32 else { return nil }
        return (address, length)
    }

    static func ipv6(_ text: String) -> Bool { !text.contains(".") && ipv6Bytes(text) != nil }

    /// An IPv6 address's 16 bytes, as the C library reads it (inet_pton).
    static func ipv6Bytes(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard !text.isEmpty, text.utf8.count < 46, inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
