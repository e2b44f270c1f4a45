/// Answers HTTP/1.1 GET requests, several on one connection (keep-alive)
/// until the client closes it or asks to.
struct HTTPServer {
    static let page = Array("""
        <!doctype html>
        <html><head><title>mirage-config</title></head>
        <body><h1>Hello from a Swift unikernel</h1><p>Served by its own TCP/IP stack.</p></body></html>

        """.utf8)

    /// /big: 256 KiB of a pattern the test recomputes.
    static func big() -> [UInt8] { (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 10) } }

    static func start(console: some Console, stack: IPStack<some NetworkInterface, some Clock>) -> Int32 {
        do throws(NetworkError) {
            try stack.listenTCP(port: 80)
        } catch {
            print("cannot listen on TCP port 80: \(error.reason.text)")
            return 1
        }
        if let server = stack.dhcpServer { print("address from DHCP server \(IPv4Text.text(server)), router \(stack.gateway.map(IPv4Text.text) ?? "none")") }
        print("serving HTTP on \(IPv4Text.text(stack.address)):80")
        var answered = 0
        while Keys.requests == 0 || answered < Keys.requests {
            guard let connection = stack.acceptTCP(on: 80, waitingAtMost: 60_000_000_000) else { continue }
            // A connection stays open for more requests unless the client's HTTP version and headers say close.
            var pending: [UInt8] = []
            while Keys.requests == 0 || answered < Keys.requests {
                guard let request = nextRequest(stack, connection, &pending) else { break }
                let keepOpen = !request.closes
                let (status, body) = response(to: request)
                let type = request.path == "/" ? "text/html" : "application/octet-stream"
                let header = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n"
                    + "Connection: \(keepOpen ? "keep-alive" : "close")\r\n\r\n"
                do throws(NetworkError) {
                    try stack.writeTCP(connection, Array(header.utf8) + body, waitingAtMost: 30_000_000_000)
                    answered += 1
                    print("\(status.prefix(3)) \(request.path)")
                } catch {
                    print("could not answer \(request.path): \(error.reason.text)")
                    break
                }
                if !keepOpen { break }
            }
            stack.closeTCP(connection, waitingAtMost: 5_000_000_000)
        }
        print("answered \(answered) requests")
        return 0
    }
}

struct Request {
    let method: String
    let path: String
    /// The client asked to close after this answer.
    let closes: Bool
}

extension HTTPServer {
    /// The next request on the connection (its head, up to the blank line), or nil at its end.
    static func nextRequest(_ stack: IPStack<some NetworkInterface, some Clock>, _ connection: TCPConnection,
                            _ pending: inout [UInt8]) -> Request? {
        while headEnd(pending) == nil {
            // A reset, a timeout or the end of the connection all end its requests.
            guard pending.count < 8192,
                  let bytes = try? stack.readTCP(connection, atMost: 2048, waitingAtMost: 10_000_000_000), !bytes.isEmpty else { return nil }
            pending += bytes
        }
        let end = headEnd(pending)!
        // ASCII lower case, to find the Connection header whatever its case.
        let head = pending[..<end].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let line = pending.prefix { $0 != 13 }.split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
        pending.removeFirst(end)
        // HTTP/1.1 keeps the connection unless asked to close; HTTP/1.0 closes unless asked to keep it.
        let closes = line.count >= 3 && line[2] == "HTTP/1.0"
            ? !contains(head, Array("\r\nconnection: keep-alive".utf8))
            : contains(head, Array("\r\nconnection: close".utf8))
        return Request(method: line.first ?? "", path: line.count >= 2 ? line[1] : "", closes: closes)
    }

    /// Where a request's head ends: just after its first blank line.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        position(of: [13, 10, 13, 10], in: bytes).map { $0 + 4 }
    }

    static func contains(_ bytes: [UInt8], _ pattern: [UInt8]) -> Bool { position(of: pattern, in: bytes) != nil }

    static func position(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return start }
        return nil
    }

    static func response(to request: Request) -> (String, [UInt8]) {
        switch (request.method, request.path) {
        case ("GET", "/"): return ("200 OK", page)
        case ("GET", "/big"): return ("200 OK", big())
        case ("GET", _): return ("404 Not Found", Array("not found\n".utf8))
        default: return ("400 Bad Request", Array("bad request\n".utf8))
        }
    }
}
