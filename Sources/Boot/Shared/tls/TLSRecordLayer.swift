/// Either end of a TLS connection as its owner drives it: bytes from the
/// peer in, records to send and application data out.
public protocol TLSMachine {
    mutating func receive(_ bytes: [UInt8]) -> TLSOutput
    /// Records carrying `data`; nothing before the handshake completes.
    mutating func send(_ data: [UInt8]) -> [UInt8]
    /// A close_notify alert; the connection takes nothing more.
    mutating func close() -> [UInt8]
    var isConnected: Bool { get }
    var isClosed: Bool { get }
    /// The peer has sent close_notify.
    var peerClosed: Bool { get }
    /// Whether the handshake resumed a session from a ticket.
    var resumed: Bool { get }
    /// The ALPN protocol agreed on, if any.
    var applicationProtocol: String? { get }
}

extension TLSServer: TLSMachine {}
extension TLSClient: TLSMachine {}

/// What the record handling both ends share needs of each: its record
/// layer, when it takes records, and its handshake.
protocol TLSEndpoint: TLSMachine {
    var records: TLSRecordLayer { get set }
    var peerClosed: Bool { get set }
    /// Whether records may come now.
    var isReceiving: Bool { get }
    /// Whether a change_cipher_spec record may come now.
    var acceptsChangeCipherSpec: Bool { get }
    /// The peer's handshake messages after which its keys change: no more
    /// handshake bytes may share their record (RFC 8446 section 5.1).
    static var keyChangeMessages: [UInt8] { get }
    mutating func endConnection()
    mutating func handleHandshake(type: UInt8, message: [UInt8], _ output: inout TLSOutput) throws(TLSAlert)
}

extension TLSEndpoint {
    /// Takes bytes from the peer (any split of its records). Whatever comes
    /// after the peer's close_notify is ignored (RFC 8446 section 6.1); a
    /// failure sends its alert and ends the connection.
    mutating func receiveRecords(_ bytes: [UInt8]) -> TLSOutput {
        var output = TLSOutput()
        guard isReceiving, !isClosed, !peerClosed else { return output }
        records.incoming += bytes
        do throws(TLSAlert) {
            while !isClosed, !peerClosed, let (header, body) = try records.nextRecord() {
                try handleRecord(header: header, body: body, &output)
            }
        } catch {
            output.toSend += records.alertRecord(error)
            output.alert = error
            output.closed = true
            endConnection()
        }
        return output
    }

    /// Records carrying `data`; nothing before the handshake completes or after the connection closes.
    mutating func sendRecords(_ data: [UInt8]) -> [UInt8] {
        guard isConnected else { return [] }
        return records.records(data, type: TLSContentType.applicationData)
    }

    /// A close_notify alert; the connection takes nothing more.
    mutating func closeRecords() -> [UInt8] {
        guard isReceiving, !isClosed else { return [] }
        endConnection()
        return records.alertRecord(.closeNotify)
    }

    mutating func handleRecord(header: [UInt8], body: [UInt8], _ output: inout TLSOutput) throws(TLSAlert) {
        if header[0] == TLSContentType.changeCipherSpec {
            // Middlebox compatibility (RFC 8446 D.4): one byte 1, only during the handshake.
            guard body == [1], acceptsChangeCipherSpec else { throw .unexpectedMessage }
            return
        }
        let (type, content) = try records.open(header: header, body: body)
        switch type {
        case TLSContentType.alert:
            guard content.count == 2, let alert = TLSAlert(rawValue: content[1]) else { throw .decodeError }
            if alert == .closeNotify && isConnected {
                peerClosed = true
                output.peerClosed = true
            } else {
                output.alert = alert
                output.closed = true
                endConnection()
            }
        case TLSContentType.handshake:
            guard !content.isEmpty else { throw .unexpectedMessage }
            records.handshakeBytes += content
            while let message = try records.nextHandshakeMessage() {
                try handleHandshake(type: message[0], message: message, &output)
                if Self.keyChangeMessages.contains(message[0]) && !records.handshakeBytes.isEmpty { throw .unexpectedMessage }
            }
        case TLSContentType.applicationData:
            guard isConnected, records.handshakeBytes.isEmpty else { throw .unexpectedMessage }
            output.received += content
        default:
            throw .unexpectedMessage
        }
    }
}

/// The record layer both ends share (RFC 8446 section 5): whole records cut
/// from the bytes that came, opened with the read keys once there are any,
/// and what this side sends sealed with its write keys, in records of at
/// most 2^14 bytes of plaintext, or the peer's record_size_limit (RFC 8449),
/// padded if this side pads.
struct TLSRecordLayer {
    var incoming: [UInt8] = []
    var readProtection: TLSRecordProtection?
    var writeProtection: TLSRecordProtection?
    /// The largest protected record's inner plaintext (content, type byte,
    /// padding) this side takes, which it says in record_size_limit; a
    /// larger one that comes is a record_overflow.
    let recordSizeLimit: Int
    /// The same of the peer, once it has said: this side's protected records hold no more.
    var peerRecordSizeLimit = TLSRecordLayer.largestRecordSizeLimit
    /// Protected records' inner plaintext is padded with zeros to a multiple
    /// of this many bytes (0: not padded), so that their lengths say less of
    /// what they carry (RFC 8446 section 5.4); never past the peer's limit.
    let paddingBlock: Int

    /// `recordSizeLimit`: 64 to 2^14 + 1, as RFC 8449 allows; `paddingBlock`: 0 or more.
    init(recordSizeLimit: Int = TLSRecordLayer.largestRecordSizeLimit, paddingBlock: Int = 0) {
        precondition((64...TLSRecordLayer.largestRecordSizeLimit).contains(recordSizeLimit) && paddingBlock >= 0)
        self.recordSizeLimit = recordSizeLimit
        self.paddingBlock = paddingBlock
    }

    /// 2^14 bytes of content and the type byte: the most TLS 1.3 allows.
    static let largestRecordSizeLimit = TLSContentType.maximumPlaintext + 1

    /// A record_size_limit's value (RFC 8449 section 4): under 64 is an
    /// illegal_parameter; over TLS 1.3's most is taken as that most.
    static func recordSizeLimit(_ data: inout TLSReader) throws(TLSAlert) -> Int {
        let value = Int(try data.uint16())
        guard value >= 64 else { throw .illegalParameter }
        return min(value, largestRecordSizeLimit)
    }
    /// Handshake messages' bytes, which records may split or join.
    var handshakeBytes: [UInt8] = []

    /// The next whole record's header and body, or nil until more bytes come.
    mutating func nextRecord() throws(TLSAlert) -> (header: [UInt8], body: [UInt8])? {
        // An unknown type is refused at once, not after waiting for a length
        // of whatever the bytes spell (a plaintext "GET / " asks for 8239).
        guard let type = incoming.first else { return nil }
        guard type >= TLSContentType.changeCipherSpec && type <= TLSContentType.applicationData else { throw .unexpectedMessage }
        guard incoming.count >= 5 else { return nil }
        let length = Int(incoming[3]) << 8 | Int(incoming[4])
        let limit = readProtection == nil ? TLSContentType.maximumPlaintext : TLSContentType.maximumCiphertext
        guard length <= limit else { throw .recordOverflow }
        guard incoming.count >= 5 + length else { return nil }
        let header = Array(incoming[0..<5]), body = Array(incoming[5..<(5 + length)])
        incoming.removeFirst(5 + length)
        return (header, body)
    }

    /// A record's type and content: opened if read keys are in place (where
    /// only application_data records may come), else as it came, where only
    /// handshake and alert records may.
    mutating func open(header: [UInt8], body: [UInt8]) throws(TLSAlert) -> (type: UInt8, content: [UInt8]) {
        guard var protection = readProtection else {
            guard header[0] == TLSContentType.handshake || header[0] == TLSContentType.alert else { throw .unexpectedMessage }
            return (header[0], body)
        }
        guard header[0] == TLSContentType.applicationData else { throw .unexpectedMessage }
        let opened = try protection.open(body, header: header, limit: recordSizeLimit)
        readProtection = protection
        return opened
    }

    /// `content` of `type` in records, protected if write keys are in place.
    mutating func records(_ content: [UInt8], type: UInt8) -> [UInt8] {
        var records: [UInt8] = []
        var offset = 0
        // Unprotected records (the hellos) are not subject to the peer's limit (RFC 8449 section 4).
        let room = writeProtection == nil ? TLSContentType.maximumPlaintext : peerRecordSizeLimit - 1
        repeat {
            let end = min(content.count, offset + room)
            let piece = Array(content[offset..<end])
            if var protection = writeProtection {
                records += protection.seal(piece, type: type, padding: padding(after: piece.count))
                writeProtection = protection
            } else {
                records += [type, 0x03, 0x03]
                records.appendVector(piece, lengthBytes: 2)
            }
            offset = end
        } while offset < content.count
        return records
    }

    /// The zeros after `count` bytes of content and the type byte: to the
    /// next multiple of the padding block, within the peer's limit.
    func padding(after count: Int) -> Int {
        guard paddingBlock > 0 else { return 0 }
        let inner = count + 1
        let padded = (inner + paddingBlock - 1) / paddingBlock * paddingBlock
        return min(padded, peerRecordSizeLimit) - inner
    }

    /// A record with an alert; close_notify and user_canceled are warnings, the rest fatal.
    mutating func alertRecord(_ alert: TLSAlert) -> [UInt8] {
        let level: UInt8 = alert == .closeNotify || alert == .userCanceled ? 1 : 2
        return records([level, alert.rawValue], type: TLSContentType.alert)
    }

    /// The next whole handshake message (type, length, body), or nil until
    /// more bytes come. No message either end takes comes near 64 KiB.
    mutating func nextHandshakeMessage() throws(TLSAlert) -> [UInt8]? {
        guard handshakeBytes.count >= 4 else { return nil }
        let length = Int(handshakeBytes[1]) << 16 | Int(handshakeBytes[2]) << 8 | Int(handshakeBytes[3])
        guard length <= 65_536 else { throw .decodeError }
        guard handshakeBytes.count >= 4 + length else { return nil }
        let message = Array(handshakeBytes[0..<(4 + length)])
        handshakeBytes.removeFirst(4 + length)
        return message
    }

    /// A KeyUpdate (RFC 8446 section 4.6.3): the peer's next keys, and if it
    /// asked, this side's KeyUpdate (returned, to send) and its next keys.
    mutating func keyUpdate(_ message: [UInt8]) throws(TLSAlert) -> [UInt8] {
        guard message.count == 5, message[4] <= 1 else { throw message.count == 5 ? .illegalParameter : .decodeError }
        readProtection = readProtection?.updated()
        guard message[4] == 1, writeProtection != nil else { return [] }
        let answer = records([24, 0, 0, 1, 0], type: TLSContentType.handshake)
        writeProtection = writeProtection?.updated()
        return answer
    }
}
