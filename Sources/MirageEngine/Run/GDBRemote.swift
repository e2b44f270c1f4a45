import Foundation

/// GDB's remote serial protocol, the part `run --profile` speaks to QEMU's
/// gdbstub: packets `$payload#checksum`, replies that may be run-length
/// encoded, the interrupt byte 0x03. The codec is pure, so it is tested
/// without a QEMU; `GDBRemote` is the connection over a Unix socket.
public enum GDBPacket {
    /// `$payload#xx`, xx the sum of the payload's bytes modulo 256 in hex.
    public static func encode(_ payload: String) -> Data {
        let sum = payload.utf8.reduce(UInt8(0)) { $0 &+ $1 }
        return Data("$\(payload)#\(String(format: "%02x", sum))".utf8)
    }

    /// The first whole packet in `buffer` (acks before it skipped): its
    /// payload, run-length decoding undone, and how many bytes it took; nil
    /// if none is whole yet. A bad checksum is an error.
    public static func decode(_ buffer: [UInt8]) throws -> (payload: String, consumed: Int)? {
        guard let start = buffer.firstIndex(of: UInt8(ascii: "$")),
              let hash = buffer[start...].firstIndex(of: UInt8(ascii: "#")), hash + 2 < buffer.count else { return nil }
        let body = Array(buffer[(start + 1)..<hash])
        guard let expected = UInt8(String(decoding: buffer[(hash + 1)...(hash + 2)], as: UTF8.self), radix: 16),
              body.reduce(UInt8(0), { $0 &+ $1 }) == expected else {
            throw MirageError("qemu's gdbstub sent a packet with a bad checksum")
        }
        var expanded: [UInt8] = []
        var index = 0
        while index < body.count {
            // `X*N`: X once more for each of N - 29 (N a printable count).
            if body[index] == UInt8(ascii: "*"), let last = expanded.last, index + 1 < body.count {
                expanded += Array(repeating: last, count: max(0, Int(body[index + 1]) - 29))
                index += 2
            } else if body[index] == UInt8(ascii: "}"), index + 1 < body.count {
                expanded.append(body[index + 1] ^ 0x20)
                index += 2
            } else {
                expanded.append(body[index])
                index += 1
            }
        }
        return (String(decoding: expanded, as: UTF8.self), hash + 3)
    }

    /// Little-endian 32-bit words from a hex reply (`g`, `m`).
    public static func words(fromHex text: String) -> [UInt32] {
        let bytes = Array(text.utf8)
        var words: [UInt32] = []
        var index = 0
        while index + 8 <= bytes.count {
            var word: UInt32 = 0
            for byte in 0..<4 {
                guard let value = UInt32(String(decoding: bytes[(index + byte * 2)..<(index + byte * 2 + 2)], as: UTF8.self), radix: 16) else {
                    return words
                }
                word |= value << (8 * UInt32(byte))
            }
            words.append(word)
            index += 8
        }
        return words
    }
}

/// A connection to QEMU's gdbstub on a Unix socket.
final class GDBRemote {
    let socket: Int32
    var buffer: [UInt8] = []
    /// Whether each packet received is acknowledged with `+` (until qemu
    /// agrees to QStartNoAckMode; older gdbstubs never do).
    var acknowledges = true

    /// Connects to `path`, waiting up to `timeout` seconds for qemu to make it.
    init?(path: String, timeout: Double, stopped: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let capacity = Swift.MemoryLayout.size(ofValue: address.sun_path)
            guard path.utf8.count < capacity else { close(fd); return nil }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.utf8)
                raw[path.utf8.count] = 0
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(Swift.MemoryLayout<sockaddr_un>.size)) }
            }
            if connected == 0 { socket = fd; return }
            close(fd)
            if Date() > deadline || stopped() { return nil }
            usleep(20_000)
        }
    }

    deinit { close(socket) }

    func write(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    func send(_ payload: String) -> Bool { write(GDBPacket.encode(payload)) }

    /// Sends the interrupt byte: qemu stops the guest and replies with a stop packet.
    func interrupt() -> Bool { write(Data([0x03])) }

    /// The next packet's payload; nil when qemu closed the socket or said nothing for `timeout` seconds.
    func receive(timeout: Double = 5) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let packet = try? GDBPacket.decode(buffer) {
                buffer.removeFirst(packet.consumed)
                if acknowledges { _ = write(Data("+".utf8)) }
                return packet.payload
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 8192)
            let count = recv(socket, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            buffer += chunk.prefix(count)
        }
    }

    /// A request and its reply.
    func ask(_ payload: String) -> String? { send(payload) ? receive() : nil }

    /// Qemu stops the guest when a debugger connects and says so; this asks
    /// for no acknowledgements where the stub can, and leaves the guest stopped.
    func start() -> Bool {
        guard send("QStartNoAckMode") else { return false }
        while let reply = receive() {
            if reply.first == "T" || reply.first == "S" { continue }   // the stop on connecting
            if reply == "OK" { acknowledges = false }
            return true
        }
        return false
    }
}
