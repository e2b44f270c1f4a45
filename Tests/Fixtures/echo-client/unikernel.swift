/// Connects to the echo server (TCP retries its SYN while the server
/// boots), sends 64 KiB in 8 KiB rounds, each read back before the next,
/// then a datagram; exits 0 only when every byte came back as sent.
struct EchoClient {
    static func start<Stack: NetworkStack>(console: some Console, stack: Stack) -> Int32 {
        guard let server = IPAddress(Keys.server) else {
            print("--server is not an IPv4 or IPv6 address: \(Keys.server)")
            return 2
        }
        let data = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        var received: [UInt8] = []
        do throws(NetworkError) {
            let connection = try stack.connect(to: server, port: 7, waitingAtMost: 60_000_000_000)
            for round in 0..<8 {
                try connection.write(data[round * 8192..<(round + 1) * 8192], waitingAtMost: 30_000_000_000)
                while received.count < (round + 1) * 8192,
                      let chunk = try connection.read(atMost: 8192, waitingAtMost: 30_000_000_000) {
                    received += chunk
                }
            }
            connection.close(waitingAtMost: 5_000_000_000)
        } catch {
            print("TCP to \(Keys.server):7 failed after \(received.count) bytes: \(error.reason.text)")
            return 1
        }
        guard received == data else {
            print("TCP: \(received.count) bytes came back, not the 65536 sent")
            return 1
        }
        print("TCP: 65536 bytes echoed by \(Keys.server)")
        let ping = Array("ping from the other unikernel".utf8)
        do throws(NetworkError) {
            let socket = try stack.bind(udpPort: 40_007)
            for _ in 0..<5 {
                try socket.send(ping, to: server, port: 7)
                if let answer = try? socket.receive(waitingAtMost: 3_000_000_000), answer.data == ping {
                    print("UDP: datagram echoed by \(Keys.server)")
                    return 0
                }
            }
        } catch {
            print("UDP to \(Keys.server):7 failed: \(error.reason.text)")
            return 1
        }
        print("UDP: no echo from \(Keys.server)")
        return 1
    }
}
