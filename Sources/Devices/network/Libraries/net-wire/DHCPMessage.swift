/// DHCPv4 (RFC 2131) messages: what a client sends and the parts of a
/// server's answer it uses. Parsed with every length checked.
public struct DHCPMessage: Equatable {
    public static let discover: UInt8 = 1, offer: UInt8 = 2, request: UInt8 = 3, acknowledge: UInt8 = 5, negative: UInt8 = 6
    public static let clientPort: UInt16 = 68, serverPort: UInt16 = 67
    static let cookie: [UInt8] = [99, 130, 83, 99]

    public var operation: UInt8 = 1
    public var transaction: UInt32
    public var clientAddress: UInt32 = 0
    public var yourAddress: UInt32 = 0
    public var hardwareAddress: MACAddress
    public var type: UInt8
    public var requestedAddress: UInt32?
    public var server: UInt32?
    public var subnetMask: UInt32?
    public var router: UInt32?
    public var leaseSeconds: UInt32?
    /// The domain name servers (option 6), in the server's order of preference.
    public var nameServers: [UInt32] = []

    public init(type: UInt8, transaction: UInt32, hardwareAddress: MACAddress) {
        self.type = type
        self.transaction = transaction
        self.hardwareAddress = hardwareAddress
    }

    public init?(parsing bytes: [UInt8]) {
        guard bytes.count >= 240, Array(bytes[236..<240]) == DHCPMessage.cookie, bytes[1] == 1, bytes[2] == 6 else { return nil }
        operation = bytes[0]
        transaction = readBE32(bytes[...], 4)
        clientAddress = readBE32(bytes[...], 12)
        yourAddress = readBE32(bytes[...], 16)
        hardwareAddress = MACAddress(bytes: bytes[28..<34])
        var type: UInt8?
        var index = 240
        while index < bytes.count {
            let code = bytes[index]
            if code == 255 { break }
            if code == 0 { index += 1; continue }
            guard index + 1 < bytes.count else { return nil }
            let length = Int(bytes[index + 1])
            guard index + 2 + length <= bytes.count else { return nil }
            let value = bytes[(index + 2)..<(index + 2 + length)]
            func address() -> UInt32? { length == 4 ? readBE32(value, 0) : nil }
            switch code {
            case 53 where length == 1: type = value.first
            case 1: subnetMask = address()
            case 3 where length >= 4: router = readBE32(value, 0)
            case 50: requestedAddress = address()
            case 51: leaseSeconds = address()
            case 54: server = address()
            case 6 where length >= 4 && length % 4 == 0:
                nameServers = stride(from: 0, to: length, by: 4).map { readBE32(value, $0) }
            default: break
            }
            index += 2 + length
        }
        guard let type else { return nil }
        self.type = type
    }

    public func emit() -> [UInt8] {
        var bytes: [UInt8] = [operation, 1, 6, 0]
        appendBE32(&bytes, transaction)
        bytes += [0, 0, 0x80, 0]                   // seconds; flags: broadcast the answer
        appendBE32(&bytes, clientAddress)
        appendBE32(&bytes, yourAddress)
        bytes += [UInt8](repeating: 0, count: 8)    // server and relay addresses
        hardwareAddress.append(to: &bytes)
        bytes += [UInt8](repeating: 0, count: 10 + 64 + 128)
        bytes += DHCPMessage.cookie
        bytes += [53, 1, type]
        if let requestedAddress { bytes += [50, 4]; appendBE32(&bytes, requestedAddress) }
        if let server { bytes += [54, 4]; appendBE32(&bytes, server) }
        bytes += [55, 4, 1, 3, 6, 51, 255]
        return bytes
    }
}
