/// TLS alerts (RFC 8446 section 6): why a connection ends. Every failure the
/// state machine finds is one of these, sent to the peer before it closes.
public enum TLSAlert: UInt8, Error {
    case closeNotify = 0
    case unexpectedMessage = 10
    case badRecordMAC = 20
    case recordOverflow = 22
    case handshakeFailure = 40
    case badCertificate = 42
    case unsupportedCertificate = 43
    case certificateExpired = 45
    case certificateUnknown = 46
    case illegalParameter = 47
    case unknownCA = 48
    case decodeError = 50
    case decryptError = 51
    case protocolVersion = 70
    case insufficientSecurity = 71
    case internalError = 80
    case userCanceled = 90
    case missingExtension = 109
    case unsupportedExtension = 110
    case unrecognizedName = 112
    case noApplicationProtocol = 120
}

/// Reads TLS's big-endian integers and length-prefixed vectors, refusing
/// anything that runs past its end with decode_error.
struct TLSReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
        end = bytes.count
    }

    init(_ bytes: [UInt8], from offset: Int, to end: Int) {
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    var isAtEnd: Bool { offset == end }
    var remaining: Int { end - offset }

    /// A length or code of at most 3 bytes, which fits an Int on a 32-bit core.
    mutating func integer(bytes count: Int) throws(TLSAlert) -> Int {
        precondition(count <= 3, "wider integers are read with unsigned(_:)")
        guard remaining >= count else { throw .decodeError }
        var value = 0
        for index in 0..<count { value = value << 8 | Int(bytes[offset + index]) }
        offset += count
        return value
    }

    /// A big-endian unsigned integer as wide as `T` (a UInt32 ticket age, a UInt64 time).
    mutating func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws(TLSAlert) -> T {
        let count = T.bitWidth / 8
        guard remaining >= count else { throw .decodeError }
        var value: T = 0
        for index in 0..<count { value = value << 8 | T(bytes[offset + index]) }
        offset += count
        return value
    }

    mutating func byte() throws(TLSAlert) -> UInt8 { UInt8(try integer(bytes: 1)) }
    mutating func uint16() throws(TLSAlert) -> UInt16 { UInt16(try integer(bytes: 2)) }

    mutating func bytes(_ count: Int) throws(TLSAlert) -> [UInt8] {
        guard remaining >= count else { throw .decodeError }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A vector with a `lengthBytes`-byte length, as a reader of its own.
    mutating func vector(lengthBytes: Int) throws(TLSAlert) -> TLSReader {
        let length = try integer(bytes: lengthBytes)
        guard remaining >= length else { throw .decodeError }
        defer { offset += length }
        return TLSReader(bytes, from: offset, to: offset + length)
    }

    /// A vector of 16-bit values (cipher suites, groups, algorithms); an odd
    /// length is a decode_error.
    mutating func uint16List(lengthBytes: Int) throws(TLSAlert) -> [UInt16] {
        var list = try vector(lengthBytes: lengthBytes)
        guard list.remaining % 2 == 0 else { throw .decodeError }
        var values: [UInt16] = []
        while !list.isAtEnd { values.append(try list.uint16()) }
        return values
    }

    /// The rest, as bytes.
    /// Reads an extensions block (RFC 8446 section 4.2) to its end: each
    /// extension's type and data to `body`, with whether it is the block's
    /// last. A type twice is illegal_parameter; data `body` leaves unread is decode_error.
    mutating func readExtensions(_ body: (_ type: UInt16, _ data: inout TLSReader, _ isLast: Bool) throws(TLSAlert) -> Void) throws(TLSAlert) {
        var seen: [UInt16] = []
        while !isAtEnd {
            let type = try uint16()
            var data = try vector(lengthBytes: 2)
            guard !seen.contains(type) else { throw .illegalParameter }
            seen.append(type)
            try body(type, &data, isAtEnd)
            guard data.isAtEnd else { throw .decodeError }
        }
    }

    mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` big-endian in `count` bytes.
    mutating func appendInteger<T: FixedWidthInteger>(_ value: T, bytes count: Int) {
        for index in stride(from: count - 1, through: 0, by: -1) { append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    /// Appends `body` with a `lengthBytes`-byte length before it.
    mutating func appendVector(_ body: [UInt8], lengthBytes: Int) {
        appendInteger(body.count, bytes: lengthBytes)
        append(contentsOf: body)
    }
}
