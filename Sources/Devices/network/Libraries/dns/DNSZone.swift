/// A zone's records, by owner name, read from an RFC 1035 5 master file:
/// `$ORIGIN`, `$TTL` (RFC 2308 4), relative names and `@`, an owner left
/// blank for the previous one's, TTL and class in either order, parentheses
/// across lines, comments, quoted strings with escapes, TTLs with BIND's
/// units (1h30m), and RFC 3597's `TYPEnnn \# LENGTH HEX` for other types.
public struct DNSZone {
    /// The apex: the owner of the SOA record.
    public let origin: DNSName
    public let soa: DNSRecord
    /// Every record, in the order of the file.
    public let records: [DNSRecord]
    /// Indices into `records` by owner name (its case ignored).
    let byName: [DNSName: [Int]]
    /// Every owner and every name between it and the apex (RFC 4592's
    /// empty non-terminals): the names that exist, found without a scan.
    let existing: Set<DNSName>

    /// The records of `name` (of one type, or all), in the file's order.
    public func records(of name: DNSName, type: UInt16? = nil) -> [DNSRecord] {
        (byName[name] ?? []).map { records[$0] }.filter { type == nil || $0.type == type }
    }

    /// Whether any record is owned by `name` or a name below it (RFC 4592's empty non-terminals exist).
    public func exists(_ name: DNSName) -> Bool { existing.contains(name) }

    /// A zone file's text. `origin` is the zone's name when the file sets
    /// no `$ORIGIN` first (the file's name, for a zone read from a store).
    public static func parse(_ text: [UInt8], origin: DNSName?) -> Result<DNSZone, DNSZoneError> {
        var parser = DNSZoneParser(text: text, origin: origin)
        do throws(DNSZoneError) {
            let records = try parser.records()
            return .success(try DNSZone(records: records, origin: origin))
        } catch {
            return .failure(error)
        }
    }

    /// A zone file as a store holds it: NAME.zone is the zone NAME. examples/dns
    /// serves its store's files so, and `mirage-config` checks every such file
    /// so (with this code, built for the host) before it embeds or packs it.
    public static func parse(fileNamed name: String, _ text: [UInt8]) -> Result<DNSZone, DNSZoneError> {
        let zone = name.hasSuffix(".zone") ? String(name.dropLast(5)) : name
        guard name.hasSuffix(".zone"), let origin = DNSName(zone) else {
            return .failure(DNSZoneError(line: 0, reason: "'\(zone)' is not a domain name: a zone file is named ZONE.zone (example.org.zone)"))
        }
        return parse(text, origin: origin)
    }

    /// Checks what RFC 1034 asks of a zone: one SOA, at the apex; every
    /// record at or below it; a CNAME alone at its name (3.6.2).
    init(records: [(record: DNSRecord, line: Int)], origin: DNSName?) throws(DNSZoneError) {
        let soas = records.filter { $0.record.type == DNSType.soa }
        guard let first = soas.first else { throw DNSZoneError(line: max(1, records.first?.line ?? 1), reason: "the zone has no SOA record") }
        guard soas.count == 1 else { throw DNSZoneError(line: soas[1].line, reason: "a second SOA record (a zone has one, at its apex)") }
        if let origin, first.record.name != origin {
            throw DNSZoneError(line: first.line, reason: "the SOA record is owned by \(first.record.name.text), not the zone's origin \(origin.text)")
        }
        let apex = first.record.name
        var byName: [DNSName: [Int]] = [:]
        for (index, entry) in records.enumerated() {
            guard entry.record.name.isSubdomain(of: apex) else {
                throw DNSZoneError(line: entry.line, reason: "\(entry.record.name.text) is outside the zone \(apex.text)")
            }
            byName[entry.record.name, default: []].append(index)
        }
        for entry in records {
            let others = byName[entry.record.name]!.map { records[$0].record }
            if entry.record.type == DNSType.cname, others.count > 1 {
                throw DNSZoneError(line: entry.line, reason: "\(entry.record.name.text) has a CNAME and other records (a CNAME stands alone, RFC 1034 3.6.2)")
            }
        }
        var existing = Set<DNSName>()
        for owner in byName.keys {
            var name = owner
            while name.labels.count >= apex.labels.count, existing.insert(name).inserted { name = name.parent }
        }
        self.origin = apex
        self.soa = first.record
        self.records = records.map { $0.record }
        self.byName = byName
        self.existing = existing
    }
}

/// Why a zone file does not parse: its line (from 1) and the reason.
public struct DNSZoneError: Error, Equatable {
    public let line: Int
    public let reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// "FILE:LINE: reason", as compilers say it ("FILE: reason" for a file's name, line 0).
    public func located(in file: String) -> String {
        line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)"
    }
}

extension DNSName: Hashable {
    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(DNSName.lowercase(byte)) }
        }
    }
}

/// Reads a master file entry by entry.
struct DNSZoneParser {
    struct Token {
        var bytes: [UInt8]
        /// Written in double quotes (its escapes already undone).
        var quoted: Bool
    }

    let text: [UInt8]
    var position = 0
    var line = 1
    var origin: DNSName?
    var defaultTTL: UInt32?
    var lastTTL: UInt32?
    var lastOwner: DNSName?

    init(text: [UInt8], origin: DNSName?) {
        self.text = text
        self.origin = origin
    }

    mutating func records() throws(DNSZoneError) -> [(record: DNSRecord, line: Int)] {
        var records: [(record: DNSRecord, line: Int)] = []
        while let (tokens, blankOwner, entryLine) = try entry() {
            if let record = try record(tokens, blankOwner: blankOwner, line: entryLine) { records.append((record, entryLine)) }
        }
        return records
    }

    func fail(_ reason: String, line: Int) -> DNSZoneError { DNSZoneError(line: line, reason: reason) }

    /// The next entry's tokens, whether it began with a blank (the owner
    /// left out), and its first line; nil at the end of the text.
    mutating func entry() throws(DNSZoneError) -> ([Token], Bool, Int)? {
        while position < text.count {
            var tokens: [Token] = []
            let blankOwner = text[position] == UInt8(ascii: " ") || text[position] == UInt8(ascii: "\t")
            let first = line
            var parentheses = 0
            var parenthesesLine = line
            while position < text.count {
                let byte = text[position]
                switch byte {
                case UInt8(ascii: "\n"):
                    position += 1
                    line += 1
                    if parentheses == 0 {
                        if !tokens.isEmpty { return (tokens, blankOwner, first) }
                        break
                    }
                    continue
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    position += 1
                    continue
                case UInt8(ascii: ";"):
                    while position < text.count, text[position] != UInt8(ascii: "\n") { position += 1 }
                    continue
                case UInt8(ascii: "("):
                    if parentheses == 0 { parenthesesLine = line }
                    parentheses += 1
                    position += 1
                    continue
                case UInt8(ascii: ")"):
                    guard parentheses > 0 else { throw fail("a \")\" with no \"(\" before it", line: line) }
                    parentheses -= 1
                    position += 1
                    continue
                case UInt8(ascii: "\""):
                    tokens.append(Token(bytes: try quoted(), quoted: true))
                    continue
                default:
                    tokens.append(Token(bytes: word(), quoted: false))
                    continue
                }
                if parentheses == 0 { break }
            }
            if parentheses > 0 { throw fail("a \"(\" that is never closed", line: parenthesesLine) }
            if !tokens.isEmpty { return (tokens, blankOwner, first) }
        }
        return nil
    }

    /// An unquoted word, its escapes kept for the name parser (and undone by `unescaped`).
    mutating func word() -> [UInt8] {
        var bytes: [UInt8] = []
        while position < text.count {
            let byte = text[position]
            if byte == UInt8(ascii: "\\"), position + 1 < text.count, text[position + 1] != UInt8(ascii: "\n") {
                bytes += [byte, text[position + 1]]
                position += 2
                continue
            }
            if [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ";"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\"")].contains(byte) { break }
            bytes.append(byte)
            position += 1
        }
        return bytes
    }

    /// A quoted string's bytes, escapes undone; it may not span lines.
    mutating func quoted() throws(DNSZoneError) -> [UInt8] {
        let start = line
        position += 1
        var raw: [UInt8] = []
        while position < text.count, text[position] != UInt8(ascii: "\"") {
            if text[position] == UInt8(ascii: "\n") { throw fail("a quoted string that does not end on its line", line: start) }
            if text[position] == UInt8(ascii: "\\"), position + 1 < text.count {
                raw.append(text[position])
                position += 1
            }
            raw.append(text[position])
            position += 1
        }
        guard position < text.count else { throw fail("a quoted string that never ends", line: start) }
        position += 1
        return try unescaped(raw, line: start)
    }

    /// RFC 1035 5.1's escapes: \X is X, \DDD the byte of that decimal value.
    func unescaped(_ raw: [UInt8], line: Int) throws(DNSZoneError) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = 0
        while index < raw.count {
            guard raw[index] == UInt8(ascii: "\\"), index + 1 < raw.count else {
                bytes.append(raw[index])
                index += 1
                continue
            }
            if DNSText.isDigit(raw[index + 1]) {
                guard index + 3 < raw.count, DNSText.isDigit(raw[index + 2]), DNSText.isDigit(raw[index + 3]) else {
                    throw fail("\\DDD needs three digits", line: line)
                }
                let value = Int(raw[index + 1] - 48) * 100 + Int(raw[index + 2] - 48) * 10 + Int(raw[index + 3] - 48)
                guard value <= 255 else { throw fail("\\\(value) is more than a byte", line: line) }
                bytes.append(UInt8(value))
                index += 4
            } else {
                bytes.append(raw[index + 1])
                index += 2
            }
        }
        return bytes
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func upper(_ bytes: [UInt8]) -> String { text(bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }) }

    /// One entry as a record; nil for a $ directive.
    mutating func record(_ tokens: [Token], blankOwner: Bool, line: Int) throws(DNSZoneError) -> DNSRecord? {
        var rest = tokens[...]
        if !blankOwner, let directive = rest.first, directive.bytes.first == UInt8(ascii: "$"), !directive.quoted {
            let directiveName = DNSZoneParser.upper(directive.bytes)
            let arguments = Array(rest.dropFirst())
            switch directiveName {
            case "$ORIGIN":
                guard arguments.count == 1 else { throw fail("$ORIGIN takes one name", line: line) }
                origin = try name(arguments[0], line: line)
            case "$TTL":
                guard arguments.count == 1 else { throw fail("$TTL takes one time", line: line) }
                defaultTTL = try ttl(arguments[0], line: line)
            case "$INCLUDE":
                throw fail("$INCLUDE is not supported: put the records in this file", line: line)
            default:
                throw fail("an unknown directive \(DNSZoneParser.text(directive.bytes)) (known: $ORIGIN, $TTL)", line: line)
            }
            return nil
        }
        let owner: DNSName
        if blankOwner {
            guard let lastOwner else { throw fail("a record with no owner, and none before it to repeat", line: line) }
            owner = lastOwner
        } else {
            owner = try name(rest.removeFirst(), line: line)
        }
        lastOwner = owner
        var recordTTL: UInt32?
        var sawClass = false
        var type: UInt16?
        while let token = rest.first, type == nil {
            rest.removeFirst()
            let word = DNSZoneParser.upper(token.bytes)
            if let first = token.bytes.first, DNSText.isDigit(first) {
                guard recordTTL == nil else { throw fail("two TTLs in one record", line: line) }
                recordTTL = try ttl(token, line: line)
            } else if word == "IN" {
                guard !sawClass else { throw fail("two classes in one record", line: line) }
                sawClass = true
            } else if word == "CH" || word == "HS" || word == "CS" {
                throw fail("the class \(word): only IN is served", line: line)
            } else if let number = DNSType.number(word), number != DNSType.axfr, number != DNSType.any, number != DNSType.opt {
                type = number
            } else {
                throw fail("\(DNSZoneParser.text(token.bytes)) is no record type here (known: A, AAAA, CAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, or TYPEnnn)", line: line)
            }
        }
        guard let type else { throw fail("a record without a type", line: line) }
        let data = try recordData(type: type, Array(rest), line: line)
        let resolvedTTL: UInt32
        if let recordTTL {
            resolvedTTL = recordTTL
        } else if let defaultTTL {
            resolvedTTL = defaultTTL
        } else if let lastTTL {
            resolvedTTL = lastTTL
        } else if case .soa(_, _, _, _, _, _, let minimum) = data {
            // RFC 2308 4's old rule, as BIND and NSD keep it: with no $TTL, the SOA's minimum.
            resolvedTTL = minimum
        } else {
            throw fail("no TTL: give one, or a $TTL line before", line: line)
        }
        lastTTL = resolvedTTL
        return DNSRecord(name: owner, type: type, ttl: resolvedTTL, data: data)
    }

    func name(_ token: Token, line: Int) throws(DNSZoneError) -> DNSName {
        guard !token.quoted else { throw fail("a name in quotes: \"\(DNSZoneParser.text(token.bytes))\"", line: line) }
        switch DNSName.parse(token.bytes, origin: origin) {
        case .success(let name): return name
        case .failure(let error): throw fail(error.reason, line: line)
        }
    }

    /// Seconds, or BIND's units: 1w2d3h4m5s, in either case.
    func ttl(_ token: Token, line: Int) throws(DNSZoneError) -> UInt32 {
        var total: UInt64 = 0, number: UInt64 = 0
        var digits = 0
        for byte in token.bytes {
            if DNSText.isDigit(byte) {
                number = number * 10 + UInt64(byte - 48)
                digits += 1
                guard number <= UInt64(UInt32.max) else { throw fail("the time \(DNSZoneParser.text(token.bytes)) is too large", line: line) }
                continue
            }
            let unit: UInt64
            switch byte | 0x20 {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3600
            case UInt8(ascii: "d"): unit = 86_400
            case UInt8(ascii: "w"): unit = 604_800
            default: throw fail("\(DNSZoneParser.text(token.bytes)) is not a time (seconds, or 1w2d3h4m5s)", line: line)
            }
            guard digits > 0 else { throw fail("\(DNSZoneParser.text(token.bytes)) has a unit without a number", line: line) }
            total += number * unit
            number = 0
            digits = 0
        }
        total += number
        guard !token.bytes.isEmpty, total <= UInt64(Int32.max) else {
            throw fail("the time \(DNSZoneParser.text(token.bytes)) is more than 2^31 - 1 seconds (RFC 2181 8)", line: line)
        }
        return UInt32(total)
    }

    func number<T: FixedWidthInteger & UnsignedInteger>(_ token: Token, _ what: String, as _: T.Type, line: Int) throws(DNSZoneError) -> T {
        guard !token.quoted, !token.bytes.isEmpty, token.bytes.allSatisfy(DNSText.isDigit), token.bytes.count <= 10,
              let value = UInt64(DNSZoneParser.text(token.bytes)), value <= UInt64(T.max) else {
            throw fail("\(what) \(DNSZoneParser.text(token.bytes)) is not a number from 0 to \(T.max)", line: line)
        }
        return T(value)
    }

    func recordData(type: UInt16, _ fields: [Token], line: Int) throws(DNSZoneError) -> DNSRecordData {
        let typeName = DNSType.name(type)
        func expect(_ count: Int, _ layout: String) throws(DNSZoneError) {
            guard fields.count == count else {
                throw fail("\(typeName) takes \(layout); this one has \(fields.count) field\(fields.count == 1 ? "" : "s")", line: line)
            }
        }
        if let first = fields.first, first.bytes == Array("\\#".utf8), !first.quoted {
            return try generic(type: type, fields, line: line)
        }
        switch type {
        case DNSType.a:
            try expect(1, "an IPv4 address")
            guard let address = IPv4Text.address(DNSZoneParser.text(fields[0].bytes)) else {
                throw fail("\(DNSZoneParser.text(fields[0].bytes)) is not an IPv4 address", line: line)
            }
            return .ipv4([UInt8(address >> 24), UInt8(address >> 16 & 0xFF), UInt8(address >> 8 & 0xFF), UInt8(address & 0xFF)])
        case DNSType.aaaa:
            try expect(1, "an IPv6 address")
            guard let address = IPv6Address(DNSZoneParser.text(fields[0].bytes)) else {
                throw fail("\(DNSZoneParser.text(fields[0].bytes)) is not an IPv6 address", line: line)
            }
            return .ipv6(address.bytes)
        case DNSType.ns, DNSType.cname, DNSType.ptr:
            try expect(1, "a name")
            return .name(try name(fields[0], line: line))
        case DNSType.soa:
            try expect(7, "the primary server, the mailbox, serial, refresh, retry, expire and minimum")
            return .soa(primary: try name(fields[0], line: line), mailbox: try name(fields[1], line: line),
                        serial: try number(fields[2], "the serial", as: UInt32.self, line: line),
                        refresh: try ttl(fields[3], line: line), retry: try ttl(fields[4], line: line),
                        expire: try ttl(fields[5], line: line), minimum: try ttl(fields[6], line: line))
        case DNSType.mx:
            try expect(2, "a preference and a mail exchange")
            return .mx(preference: try number(fields[0], "the preference", as: UInt16.self, line: line), exchange: try name(fields[1], line: line))
        case DNSType.txt:
            guard !fields.isEmpty else { throw fail("TXT takes one or more strings", line: line) }
            var strings: [[UInt8]] = []
            for field in fields {
                let bytes = field.quoted ? field.bytes : try unescaped(field.bytes, line: line)
                guard bytes.count <= 255 else { throw fail("a TXT string of \(bytes.count) bytes (at most 255: split it in several)", line: line) }
                strings.append(bytes)
            }
            return .txt(strings)
        case DNSType.srv:
            try expect(4, "a priority, a weight, a port and a target")
            return .srv(priority: try number(fields[0], "the priority", as: UInt16.self, line: line),
                        weight: try number(fields[1], "the weight", as: UInt16.self, line: line),
                        port: try number(fields[2], "the port", as: UInt16.self, line: line), target: try name(fields[3], line: line))
        case DNSType.caa:
            try expect(3, "flags, a tag and a value")
            let tag = fields[1].bytes
            guard !tag.isEmpty, tag.count <= 255, !fields[1].quoted,
                  tag.allSatisfy({ DNSText.isDigit($0) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) }) else {
                throw fail("the CAA tag \(DNSZoneParser.text(tag)) is not letters and digits (RFC 8659 4.1)", line: line)
            }
            let value = fields[2].quoted ? fields[2].bytes : try unescaped(fields[2].bytes, line: line)
            return .caa(flags: try number(fields[0], "the flags", as: UInt8.self, line: line), tag: tag, value: value)
        default:
            throw fail("\(typeName) is written in RFC 3597's form here: \\# LENGTH HEX", line: line)
        }
    }

    /// RFC 3597 5: `\# LENGTH HEX...`, for any type; read as the type's own form would be.
    func generic(type: UInt16, _ fields: [Token], line: Int) throws(DNSZoneError) -> DNSRecordData {
        guard fields.count >= 2 else { throw fail("\\# takes a length and the data in hex", line: line) }
        let length = Int(try number(fields[1], "the length", as: UInt16.self, line: line))
        var hex = fields.dropFirst(2).flatMap { $0.bytes }
        guard hex.count == length * 2 else { throw fail("\\# \(length) needs \(length * 2) hex digits, not \(hex.count)", line: line) }
        var bytes: [UInt8] = []
        while !hex.isEmpty {
            guard let high = DNSZoneParser.hexValue(hex[0]), let low = DNSZoneParser.hexValue(hex[1]) else {
                throw fail("\\# data that is not hex", line: line)
            }
            bytes.append(high << 4 | low)
            hex.removeFirst(2)
        }
        var reader = DNSReader(bytes)
        do throws(DNSWireError) {
            let data = try DNSRecordData.read(type: type, &reader, end: bytes.count)
            guard reader.atEnd else { throw DNSWireError.malformed("the data is longer than the type's fields") }
            if case .name(let target) = data, reader.message.count != target.wireLength {
                throw DNSWireError.malformed("the data is not one name")
            }
            return data
        } catch {
            throw fail("\\# data that is no \(DNSType.name(type)) record: \(error.text)", line: line)
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }
}
