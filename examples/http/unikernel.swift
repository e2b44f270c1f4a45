/// Answers HTTP/1.1 GET requests, each connection in a task of its own, so
/// that a client that keeps its connection open (keep-alive) delays nobody
/// else. A connection serves requests until the client closes it or asks
/// to, or stays idle for `--idle-timeout` seconds.
struct HTTPServer {
    static let page = Array("""
        <!doctype html>
        <html><head><title>mirage-config</title></head>
        <body><h1>Hello from a Swift unikernel</h1><p>Served by its own TCP/IP stack.</p></body></html>

        """.utf8)

    /// /big: 256 KiB of a pattern the test recomputes, made once.
    static let big: [UInt8] = (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 10) }

    /// Requests answered so far, by every connection's task.
    nonisolated(unsafe) static var answered = 0
    static var done: Bool { Keys.requests != 0 && answered >= Keys.requests }

    static func start<Stack: NetworkStack>(console: some Console, stack: Stack) -> Int32 {
        let listener: Stack.Listener
        do throws(NetworkError) {
            listener = try stack.listen(tcpPort: 80)
        } catch {
            print("cannot listen on TCP port 80: \(error.reason.text)")
            return 1
        }
        if let ipv4 = stack.ipv4, let server = ipv4.dhcpServer {
            print("address from DHCP server \(IPv4Text.text(server)), router \(ipv4.gateway.map(IPv4Text.text) ?? "none")")
        }
        print("serving HTTP on \(stack.ipv4.map { IPv4Text.text($0.address) } ?? "[::]"):80")
        let clients = listener.serveEach(name: "http-client", until: { done }) { serve($0) }
        // The last answers are on their way: let the clients' tasks close their connections.
        for client in clients { try? client.join(waitingAtMost: 5_000_000_000) }
        print("answered \(answered) requests")
        return 0
    }

    /// One connection's requests, until the client closes, asks to close, or stays idle too long.
    static func serve(_ connection: some TCPStream) {
        var pending: [UInt8] = []
        while !done {
            guard let request = nextRequest(connection, &pending) else { break }
            let keepOpen = !request.closes
            let (status, body) = response(to: request)
            let type = request.path == "/" ? "text/html" : "application/octet-stream"
            let header = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n"
                + "Connection: \(keepOpen ? "keep-alive" : "close")\r\n\r\n"
            do throws(NetworkError) {
                // A small body goes in one write with the head, so in one segment; a
                // large one is written on its own rather than joined to the head first
                // (joining copies it, and Array's + moves a byte at a time).
                if body.count <= 1024 {
                    try connection.write(Array(header.utf8) + body, waitingAtMost: 30_000_000_000)
                } else {
                    try connection.write(Array(header.utf8), waitingAtMost: 30_000_000_000)
                    try connection.write(body, waitingAtMost: 30_000_000_000)
                }
                answered += 1
                if Keys.logRequests { print("\(status.prefix(3)) \(request.path)") }
            } catch {
                print("could not answer \(request.path): \(error.reason.text)")
                break
            }
            if !keepOpen { break }
        }
        connection.close(waitingAtMost: 5_000_000_000)
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
    static func nextRequest(_ connection: some TCPStream, _ pending: inout [UInt8]) -> Request? {
        while headEnd(pending) == nil {
            // A reset, an idle connection and the end of the connection all end its requests.
            guard pending.count < 8192,
                  let bytes = try? connection.read(atMost: 2048, waitingAtMost: UInt64(Keys.idleTimeout) * 1_000_000_000) else { return nil }
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
        case ("GET", "/big"): return ("200 OK", big)
        case ("GET", _): return ("404 Not Found", Array("not found\n".utf8))
        default: return ("400 Bad Request", Array("bad request\n".utf8))
        }
    }
}
