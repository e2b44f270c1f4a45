/// DNS messages (RFC 1035 4): parsed from bytes, checking every length and
/// pointer (a malformed message is an error, never a trap), and written
/// with name compression, EDNS(0) (RFC 6891) and truncation to a size.
public struct DNSMessage: Equatable {
    public var id: UInt16
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var authenticData = false
    public var checkingDisabled = false
    /// The whole response code: its low four bits in the header, the rest in the OPT record.
    public var rcode: UInt16 = 0
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authorities: [DNSRecord] = []
    /// The additional section but the OPT record, which is `edns`.
    public var additionals: [DNSRecord] = []
    public var edns: EDNS?

    public init(id: UInt16) { self.id = id }

    public enum Opcode { public static let query: UInt8 = 0 }

    public enum Rcode {
        public static let noError: UInt16 = 0
        public static let formatError: UInt16 = 1
        public static let serverFailure: UInt16 = 2
        public static let nameError: UInt16 = 3
        public static let notImplemented: UInt16 = 4
        public static let refused: UInt16 = 5
        public static let notAuth: UInt16 = 9
        /// RFC 6891: an EDNS version the server does not speak (16, in the OPT record's bits).
        public static let badVersion: UInt16 = 16
    }

    /// EDNS(0)'s OPT pseudo-record (RFC 6891 6.1).
    public struct EDNS: Equatable {
        /// The largest UDP payload the sender takes.
        public var payloadSize: UInt16
        public var version: UInt8 = 0
        public var dnssecOK = false
        /// Options as (code, data), as received; a server answers none it does not know.
        public var options: [(code: UInt16, data: [UInt8])] = []

        public init(payloadSize: UInt16) { self.payloadSize = payloadSize }

        public static func == (left: EDNS, right: EDNS) -> Bool {
            left.payloadSize == right.payloadSize && left.version == right.version && left.dnssecOK == right.dnssecOK
                && left.options.count == right.options.count
                && zip(left.options, right.options).allSatisfy { $0.code == $1.code && $0.data == $1.data }
        }
    }

    // MARK: Reading

    public static func parse(_ bytes: [UInt8]) -> Result<DNSMessage, DNSWireError> {
        var reader = DNSReader(bytes)
        do throws(DNSWireError) {
            return .success(try parse(&reader))
        } catch {
            return .failure(error)
        }
    }

    /// Only the header: enough to answer a message that does not parse with FORMERR.
    public static func parseHeader(_ bytes: [UInt8]) -> DNSMessage? {
        guard bytes.count >= 12 else { return nil }
        var message = DNSMessage(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
        message.setFlags(UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
        return message
    }

    mutating func setFlags(_ flags: UInt16) {
        isResponse = flags & 0x8000 != 0
        opcode = UInt8(flags >> 11 & 0xF)
        authoritative = flags & 0x0400 != 0
        truncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        authenticData = flags & 0x0020 != 0
        checkingDisabled = flags & 0x0010 != 0
        rcode = flags & 0xF
    }

    static func parse(_ reader: inout DNSReader) throws(DNSWireError) -> DNSMessage {
        var message = DNSMessage(id: try reader.u16())
        message.setFlags(try reader.u16())
        let questionCount = Int(try reader.u16()), answerCount = Int(try reader.u16())
        let authorityCount = Int(try reader.u16()), additionalCount = Int(try reader.u16())
        for _ in 0..<questionCount {
            message.questions.append(DNSQuestion(name: try reader.name(), type: try reader.u16(), recordClass: try reader.u16()))
        }
        for _ in 0..<answerCount { message.answers.append(try DNSRecord.read(&reader)) }
        for _ in 0..<authorityCount { message.authorities.append(try DNSRecord.read(&reader)) }
        for _ in 0..<additionalCount {
            let start = reader.offset
            let name = try reader.name()
            let type = try reader.u16()
            if type == DNSType.opt {
                // RFC 6891 6.1.1: one OPT, owned by the root.
                guard message.edns == nil, name.isRoot else { throw .malformed("a second OPT record, or one not owned by the root") }
                var edns = EDNS(payloadSize: try reader.u16())
                let extendedRcode = try reader.u8()
                edns.version = try reader.u8()
                edns.dnssecOK = try reader.u16() & 0x8000 != 0
                var options = DNSReader(try reader.bytes(Int(try reader.u16())))
                while !options.atEnd {
                    let code = try options.u16()
                    edns.options.append((code, try options.bytes(Int(try options.u16()))))
                }
                message.rcode |= UInt16(extendedRcode) << 4
                message.edns = edns
            } else {
                reader.offset = start
                message.additionals.append(try DNSRecord.read(&reader))
            }
        }
        guard reader.atEnd else { throw .malformed("\(reader.remaining) bytes after the last record") }
        return message
    }

    // MARK: Writing

    /// The message's bytes. When they come to more than `limit` (a UDP
    /// answer's room), the records are left out and TC set, as RFC 2181 9
    /// asks: the client asks again over TCP.
    public func encode(limit: Int = 65_535) -> [UInt8] {
        let whole = encode(sections: true)
        if whole.count <= limit { return whole }
        var short = self
        short.truncated = true
        return short.encode(sections: false)
    }

    func encode(sections: Bool) -> [UInt8] {
        var writer = DNSWriter()
        writer.u16(id)
        var flags = UInt16(opcode & 0xF) << 11 | rcode & 0xF
        if isResponse { flags |= 0x8000 }
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        writer.u16(flags)
        writer.u16(UInt16(questions.count))
        writer.u16(UInt16(sections ? answers.count : 0))
        writer.u16(UInt16(sections ? authorities.count : 0))
        writer.u16(UInt16((sections ? additionals.count : 0) + (edns == nil ? 0 : 1)))
        for question in questions {
            writer.name(question.name)
            writer.u16(question.type)
            writer.u16(question.recordClass)
        }
        if sections {
            for record in answers + authorities + additionals { record.write(&writer) }
        }
        if let edns {
            writer.bytes([0])
            writer.u16(DNSType.opt)
            writer.u16(edns.payloadSize)
            writer.bytes([UInt8(truncatingIfNeeded: rcode >> 4), edns.version])
            writer.u16(edns.dnssecOK ? 0x8000 : 0)
            writer.u16(UInt16(edns.options.reduce(0) { $0 + 4 + $1.data.count }))
            for option in edns.options {
                writer.u16(option.code)
                writer.u16(UInt16(option.data.count))
                writer.bytes(option.data)
            }
        }
        return writer.bytes
    }
}

public struct DNSQuestion: Equatable {
    public var name: DNSName
    public var type: UInt16
    public var recordClass: UInt16

    public init(name: DNSName, type: UInt16, recordClass: UInt16 = DNSClass.internet) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

public enum DNSClass {
    public static let internet: UInt16 = 1
    public static let any: UInt16 = 255
}

/// Record types (RFC 1035 3.2.2 and those after it), by their numbers and master-file names.
public enum DNSType {
    public static let a: UInt16 = 1, ns: UInt16 = 2, cname: UInt16 = 5, soa: UInt16 = 6, ptr: UInt16 = 12
    public static let mx: UInt16 = 15, txt: UInt16 = 16, aaaa: UInt16 = 28, srv: UInt16 = 33, opt: UInt16 = 41
    public static let caa: UInt16 = 257, axfr: UInt16 = 252, any: UInt16 = 255

    static let names: [(UInt16, String)] = [
        (a, "A"), (ns, "NS"), (cname, "CNAME"), (soa, "SOA"), (ptr, "PTR"), (mx, "MX"), (txt, "TXT"),
        (aaaa, "AAAA"), (srv, "SRV"), (caa, "CAA"), (axfr, "AXFR"), (any, "ANY"),
    ]

    public static func name(_ type: UInt16) -> String { names.first { $0.0 == type }?.1 ?? "TYPE\(type)" }

    /// A type's mnemonic, in any case, or RFC 3597's TYPEnnn.
    public static func number(_ text: String) -> UInt16? {
        let upper = String(decoding: text.utf8.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
        if let found = names.first(where: { $0.1 == upper }) { return found.0 }
        if upper.hasPrefix("TYPE"), let number = UInt16(String(upper.dropFirst(4))) { return number }
        return nil
    }
}

public struct DNSRecord: Equatable {
    public var name: DNSName
    public var type: UInt16
    public var recordClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: UInt16, recordClass: UInt16 = DNSClass.internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    static func read(_ reader: inout DNSReader) throws(DNSWireError) -> DNSRecord {
        let name = try reader.name()
        let type = try reader.u16(), recordClass = try reader.u16(), ttl = try reader.u32()
        let length = Int(try reader.u16())
        guard length <= reader.remaining else { throw .malformed("a record's data runs past the message") }
        let end = reader.offset + length
        let data = try DNSRecordData.read(type: type, &reader, end: end)
        guard reader.offset == end else { throw .malformed("a \(DNSType.name(type)) record's data is not its stated length") }
        return DNSRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    func write(_ writer: inout DNSWriter) {
        writer.name(name)
        writer.u16(type)
        writer.u16(recordClass)
        writer.u32(ttl)
        let lengthAt = writer.bytes.count
        writer.u16(0)
        data.write(&writer)
        let length = writer.bytes.count - lengthAt - 2
        writer.bytes[lengthAt] = UInt8(length >> 8)
        writer.bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }
}

/// A record's data, by type. Names in NS, CNAME, PTR, SOA and MX are
/// compressed on the wire (RFC 3597 4: only the types of RFC 1035); SRV's
/// target is not (RFC 2782).
public enum DNSRecordData: Equatable {
    case ipv4([UInt8])
    case ipv6([UInt8])
    /// NS, CNAME, PTR: one name.
    case name(DNSName)
    case soa(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    case mx(preference: UInt16, exchange: DNSName)
    case txt([[UInt8]])
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case caa(flags: UInt8, tag: [UInt8], value: [UInt8])
    /// Any other type, as bytes (RFC 3597).
    case opaque([UInt8])

    static func read(type: UInt16, _ reader: inout DNSReader, end: Int) throws(DNSWireError) -> DNSRecordData {
        switch type {
        case DNSType.a:
            return .ipv4(try reader.bytes(4))
        case DNSType.aaaa:
            return .ipv6(try reader.bytes(16))
        case DNSType.ns, DNSType.cname, DNSType.ptr:
            return .name(try reader.name())
        case DNSType.soa:
            return .soa(primary: try reader.name(), mailbox: try reader.name(), serial: try reader.u32(), refresh: try reader.u32(),
                        retry: try reader.u32(), expire: try reader.u32(), minimum: try reader.u32())
        case DNSType.mx:
            return .mx(preference: try reader.u16(), exchange: try reader.name())
        case DNSType.txt:
            var strings: [[UInt8]] = []
            while reader.offset < end { strings.append(try reader.bytes(Int(try reader.u8()))) }
            guard !strings.isEmpty else { throw .malformed("a TXT record without a string") }
            return .txt(strings)
        case DNSType.srv:
            return .srv(priority: try reader.u16(), weight: try reader.u16(), port: try reader.u16(), target: try reader.name())
        case DNSType.caa:
            let flags = try reader.u8()
            let tag = try reader.bytes(Int(try reader.u8()))
            guard reader.offset <= end else { throw .malformed("a CAA record's tag runs past its data") }
            return .caa(flags: flags, tag: tag, value: try reader.bytes(end - reader.offset))
        default:
            return .opaque(try reader.bytes(end - reader.offset))
        }
    }

    func write(_ writer: inout DNSWriter) {
        switch self {
        case .ipv4(let bytes), .ipv6(let bytes), .opaque(let bytes):
            writer.bytes(bytes)
        case .name(let name):
            writer.name(name)
        case .soa(let primary, let mailbox, let serial, let refresh, let retry, let expire, let minimum):
            writer.name(primary)
            writer.name(mailbox)
            for value in [serial, refresh, retry, expire, minimum] { writer.u32(value) }
        case .mx(let preference, let exchange):
            writer.u16(preference)
            writer.name(exchange)
        case .txt(let strings):
            for string in strings {
                writer.bytes([UInt8(string.count)])
                writer.bytes(string)
            }
        case .srv(let priority, let weight, let port, let target):
            writer.u16(priority)
            writer.u16(weight)
            writer.u16(port)
            writer.name(target, compress: false)
        case .caa(let flags, let tag, let value):
            writer.bytes([flags, UInt8(tag.count)])
            writer.bytes(tag)
            writer.bytes(value)
        }
    }

    /// The data's bytes with no name compressed (RFC 3597's form; what
    /// RFC 4034 6.2 signs, but for the case of the names).
    public var uncompressedBytes: [UInt8] {
        var writer = DNSWriter()
        writer.compresses = false
        write(&writer)
        return writer.bytes
    }

    /// The name a CNAME, NS, MX or SRV record points to: the additional section's glue, or the next link of a chain.
    public var target: DNSName? {
        switch self {
        case .name(let name), .mx(_, let name), .srv(_, _, _, let name): return name
        default: return nil
        }
    }
}

/// Why a message does not parse.
public enum DNSWireError: Error, Equatable {
    case truncated
    case malformed(String)

    public var text: String {
        switch self {
        case .truncated: return "the message ends inside a field"
        case .malformed(let reason): return reason
        }
    }
}

/// Reads a message's fields in order, checking each length.
struct DNSReader {
    let message: [UInt8]
    var offset = 0

    init(_ message: [UInt8]) { self.message = message }

    var atEnd: Bool { offset == message.count }
    var remaining: Int { message.count - offset }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard offset < message.count else { throw .truncated }
        offset += 1
        return message[offset - 1]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        offset += 2
        return UInt16(message[offset - 2]) << 8 | UInt16(message[offset - 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func bytes(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated }
        offset += count
        return Array(message[offset - count..<offset])
    }

    /// A name, following compression pointers (RFC 1035 4.1.4). Each pointer
    /// must point before the label it replaces, so a loop cannot be made.
    mutating func name() throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var length = 1
        var position = offset
        var resumeAt: Int?
        while true {
            guard position < message.count else { throw .truncated }
            let byte = message[position]
            switch byte & 0xC0 {
            case 0x00:
                if byte == 0 {
                    offset = resumeAt ?? position + 1
                    return DNSName(checked: labels)
                }
                let count = Int(byte)
                guard position + 1 + count <= message.count else { throw .truncated }
                length += 1 + count
                guard length <= DNSName.maximumWireLength else { throw .malformed("a name longer than 255 bytes") }
                labels.append(Array(message[position + 1...position + count]))
                position += 1 + count
            case 0xC0:
                guard position + 1 < message.count else { throw .truncated }
                let target = Int(byte & 0x3F) << 8 | Int(message[position + 1])
                guard target < position else { throw .malformed("a compression pointer that does not point back") }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
            default:
                throw .malformed("a label of the reserved kinds 01 and 10 (RFC 6891 5)")
            }
        }
    }
}

/// Writes a message, compressing names against those written before.
struct DNSWriter {
    var bytes: [UInt8] = []
    /// Each name suffix written, lower case, with where it starts (only
    /// offsets a pointer can hold).
    var suffixes: [(name: DNSName, offset: Int)] = []
    var compresses = true

    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func u32(_ value: UInt32) { u16(UInt16(value >> 16)); u16(UInt16(value & 0xFFFF)) }
    mutating func bytes(_ more: [UInt8]) { bytes += more }

    mutating func name(_ name: DNSName, compress: Bool = true) {
        let labels = name.labels
        for index in 0..<labels.count {
            let suffix = DNSName(checked: Array(labels[index...]))
            if compress, compresses, let found = suffixes.first(where: { $0.name == suffix }) {
                u16(0xC000 | UInt16(found.offset))
                return
            }
            if bytes.count < 0x4000 { suffixes.append((suffix, bytes.count)) }
            bytes.append(UInt8(labels[index].count))
            bytes += labels[index]
        }
        bytes.append(0)
    }
}
