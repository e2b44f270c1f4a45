/// Answers HTTP/1.1 GET requests, one per connection (Connection: close).
struct HTTPServer {
    static let page = Array("""
        <!doctype html>
        <html><head><title>mirage-config</title></head>
        <body><h1>Hello from a Swift unikernel</h1><p>Served by its own TCP/IP stack.</p></body></html>

        """.utf8)

    /// /big: 256 KiB of a pattern the test recomputes.
    static func big() -> [UInt8] { (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 10) } }

    static func start(console: some Console, ipv4: IPv4Stack<some NetworkInterface, some Clock>) -> Int32 {
        do throws(NetworkError) {
            try ipv4.listenTCP(port: 80)
        } catch {
            print("cannot listen on TCP port 80: \(error.reason.text)")
            return 1
        }
        if let server = ipv4.dhcpServer { print("address from DHCP server \(IPv4Text.text(server)), router \(ipv4.gateway.map(IPv4Text.text) ?? "none")") }
        print("serving HTTP on \(IPv4Text.text(ipv4.address)):80")
        var answered = 0
        while Keys.requests == 0 || answered < Keys.requests {
            guard let connection = ipv4.acceptTCP(on: 80, waitingAtMost: 60_000_000_000) else { continue }
            var request: [UInt8] = []
            while !request.ends(with: [13, 10, 13, 10]) && request.count < 8192 {
                guard let bytes = ipv4.readTCP(connection, atMost: 2048, waitingAtMost: 10_000_000_000), !bytes.isEmpty else { break }
                request += bytes
            }
            let line = request.prefix { $0 != 13 }
            let parts = line.split(separator: 32)
            let path = parts.count >= 2 ? String(decoding: parts[1], as: UTF8.self) : ""
            let (status, body): (String, [UInt8])
            switch (parts.first.map { String(decoding: $0, as: UTF8.self) }, path) {
            case ("GET", "/"): (status, body) = ("200 OK", page)
            case ("GET", "/big"): (status, body) = ("200 OK", big())
            case ("GET", _): (status, body) = ("404 Not Found", Array("not found\n".utf8))
            default: (status, body) = ("400 Bad Request", Array("bad request\n".utf8))
            }
            let type = path == "/" ? "text/html" : "application/octet-stream"
            let header = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            do throws(NetworkError) {
                try ipv4.writeTCP(connection, Array(header.utf8) + body, waitingAtMost: 30_000_000_000)
                answered += 1
                print("\(status.prefix(3)) \(path)")
            } catch {
                print("could not answer \(path): \(error.reason.text)")
            }
            ipv4.closeTCP(connection, waitingAtMost: 5_000_000_000)
        }
        print("answered \(answered) requests")
        return 0
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
