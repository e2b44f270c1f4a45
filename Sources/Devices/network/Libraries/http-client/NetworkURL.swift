/// A URL as `connect(url:)` and the HTTP client take it (RFC 3986, the
/// parts they use): `scheme://host[:port][/path][?query]`, the host a name,
/// an IPv4 address or an IPv6 one in brackets. Checked whole before any of
/// it reaches the wire: no user information, no spaces or control bytes
/// (a CR or LF in a request line would let a URL write headers), a port in
/// 1...65535. A fragment is dropped, as a client never sends it.
public struct NetworkURL: Equatable {
    /// "tcp", "http" or "https", lowercased.
    public let scheme: String
    /// The host's name or address, without brackets.
    public let host: String
    public let port: UInt16
    /// The path and query, as the request line carries them ("/" for none).
    public let target: String

    /// The schemes and their default ports (tcp has none: its URL names one).
    static let defaultPorts: [(scheme: String, port: UInt16?)] = [("tcp", nil), ("http", 80), ("https", 443), ("git", 9418)]

    public init?(_ text: String) {
        guard text.utf8.count <= 2048, text.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix("//") else { return nil }
        // ASCII only (checked above): lowercased without Unicode's tables, which the unikernel does not carry.
        let scheme = String(decoding: parts[0].utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
        guard let known = NetworkURL.defaultPorts.first(where: { $0.scheme == scheme }) else { return nil }
        var rest = parts[1].dropFirst(2)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.hasPrefix("?") { target = "/" + target }
        if target.isEmpty { target = "/" }
        guard !authority.contains("@") else { return nil }
        var host: Substring, portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            guard case .v6 = IPAddress(String(host)) else { return nil }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
            guard DNSName.isHostNameText(host) else { return nil }
        }
        guard !host.isEmpty else { return nil }
        let port: UInt16
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, let number = UInt16(portText), number > 0 else { return nil }
            port = number
        } else {
            guard let fallback = known.port else { return nil }
            port = fallback
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.target = target
    }

    /// The host as the Host header and a URL write it: an IPv6 address in
    /// brackets, the port only where it is not the scheme's own.
    public var authority: String {
        let name: String
        if case .v6 = IPAddress(host) { name = "[" + host + "]" } else { name = host }
        let isDefault = NetworkURL.defaultPorts.contains { $0.scheme == scheme && $0.port == port }
        return isDefault ? name : name + ":" + String(port)
    }

    public var text: String { scheme + "://" + authority + (scheme == "tcp" ? "" : target) }

    /// A Location header's URL read against this one (RFC 3986 5.2): absolute,
    /// `//host/path`, `/path`, `?query`, or a path relative to this one's
    /// directory, its `.` and `..` segments removed; nil if it does not parse.
    public func resolving(_ location: String) -> NetworkURL? {
        if location.split(separator: "/", maxSplits: 1).first?.hasSuffix(":") == true { return NetworkURL(location) }
        if location.hasPrefix("//") { return NetworkURL(scheme + ":" + location) }
        let path = target.prefix { $0 != "?" }
        let (relative, query) = NetworkURL.splitQuery(location)
        let merged: String
        if relative.isEmpty {
            merged = String(path)
        } else if relative.hasPrefix("/") {
            merged = relative
        } else {
            merged = String(path.lastIndex(of: "/").map { path[...$0] } ?? "/") + relative
        }
        return NetworkURL(scheme + "://" + authority + NetworkURL.removingDotSegments(merged) + query)
    }

    static func splitQuery(_ text: String) -> (path: String, query: String) {
        guard let mark = text.firstIndex(of: "?") else { return (text, "") }
        return (String(text[..<mark]), String(text[mark...]))
    }

    /// RFC 3986 5.2.4: "." segments dropped, ".." ones taking the segment before with them (never above the root).
    static func removingDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case ".": if isLast { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default: output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }
}
