/// HTTPS on port 443 and a redirect to it on port 80. Every connection, on
/// either port, is a task of its own: a TLS handshake (a key exchange and a
/// signature) takes a while under emulation, and holds up only its client.
struct HTTPSServer {
    static let page = Array("""
        <!doctype html>
        <html><head><title>mirage-config</title></head>
        <body><h1>Hello from a Swift unikernel</h1><p>Served over TLS 1.3 by its own TCP/IP stack.</p></body></html>
        """.utf8)
    /// /big: the 256 KiB pattern of examples/http, which the test recomputes.
    static let big: [UInt8] = (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 10) }

    /// Requests answered so far, on either port, by every connection's task.
    nonisolated(unsafe) static var answered = 0
    static var done: Bool { Keys.requests != 0 && answered >= Keys.requests }

    static func start<Stack: NetworkStack, TLS: TLSServers>(console: some Console, stack: Stack, tls: TLS) -> Int32 {
        let secure: TLS.Listener
        let plain: Stack.Listener
        do throws(NetworkError) {
            secure = try tls.listen(tlsPort: 443)
            plain = try stack.listen(tcpPort: 80)
        } catch {
            print("cannot listen on ports 443 and 80: \(error.reason.text)")
            return 1
        }
        print("serving HTTPS on \(stack.ipv4.map { IPv4Text.text($0.address) } ?? "[::]"):443, redirecting from port 80")
        let redirecting: TaskHandle
        do throws(TaskError) {
            redirecting = try Tasks.spawn(name: "redirect") {
                for client in plain.serveEach(name: "redirect-client", until: { done }, { redirect($0) }) {
                    try? client.join(waitingAtMost: 5_000_000_000)
                }
            }
        } catch {
            print("no task for port 80: \(error.reason.text)")
            return 1
        }
        for client in secure.serveEach(name: "https-client", until: { done }, { serve($0) }) {
            try? client.join(waitingAtMost: 5_000_000_000)
        }
        try? redirecting.join(waitingAtMost: 10_000_000_000)
        print("answered \(answered) requests")
        return 0
    }

    /// One HTTPS connection's requests, until the client closes, asks to close, or stays idle.
    static func serve(_ connection: some TCPStream) {
        var pending: [UInt8] = []
        while !done, let request = Request.next(on: connection, &pending) {
            let (status, body): (String, [UInt8]) = switch (request.method, request.path) {
            case ("GET", "/"): ("200 OK", page)
            case ("GET", "/big"): ("200 OK", big)
            case ("GET", _): ("404 Not Found", Array("not found\n".utf8))
            default: ("400 Bad Request", Array("bad request\n".utf8))
            }
            let head = "HTTP/1.1 \(status)\r\nContent-Type: \(request.path == "/" ? "text/html" : "application/octet-stream")\r\n"
                + "Content-Length: \(body.count)\r\nConnection: \(request.closes ? "close" : "keep-alive")\r\n\r\n"
            do throws(NetworkError) {
                try connection.write(Array(head.utf8), waitingAtMost: 30_000_000_000)
                try connection.write(body, waitingAtMost: 30_000_000_000)
            } catch {
                print("could not answer \(request.path): \(error.reason.text)")
                break
            }
            answered += 1
            print("\(status.prefix(3)) \(request.path)")
            if request.closes { break }
        }
        connection.close(waitingAtMost: 5_000_000_000)
    }

    /// Port 80: every request is sent to the same host and path over HTTPS.
    static func redirect(_ connection: some TCPStream) {
        var pending: [UInt8] = []
        if let request = Request.next(on: connection, &pending) {
            let answer: String
            if let host = request.host {
                answer = "HTTP/1.1 301 Moved Permanently\r\nLocation: https://\(host)\(request.path)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                answered += 1
                print("301 \(request.path)")
            } else {
                answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            }
            try? connection.write(Array(answer.utf8), waitingAtMost: 10_000_000_000)
        }
        connection.close(waitingAtMost: 5_000_000_000)
    }
}

/// A request's head: its method and path, whether the client asked to close
/// after the answer, and its Host header when that is a plain host name or
/// address (anything else is not echoed into a Location).
struct Request {
    let method: String
    let path: String
    let closes: Bool
    let host: String?

    /// The next request on `connection`, or nil at its end, after an idle
    /// timeout, a head over 8 KiB, or a TLS failure (said on the console).
    static func next(on connection: some TCPStream, _ pending: inout [UInt8]) -> Request? {
        let blankLine: [UInt8] = [13, 10, 13, 10]
        var end: Int? = nil
        while end == nil {
            guard pending.count < 8192 else { return nil }
            do throws(NetworkError) {
                guard let bytes = try connection.read(atMost: 4096, waitingAtMost: UInt64(Keys.idleTimeout) * 1_000_000_000) else { return nil }
                pending += bytes
            } catch {
                if error == .tlsFailed { print("TLS failed with a client") }
                return nil
            }
            if pending.count >= 4 {
                end = (0...(pending.count - 4)).first { pending[$0..<($0 + 4)].elementsEqual(blankLine) }
            }
        }
        let lines = pending[..<end!].split(separator: 10).map { String(decoding: $0.filter { $0 != 13 }, as: UTF8.self) }
        pending.removeFirst(end! + 4)
        let words = lines.first?.split(separator: " ").map(String.init) ?? []
        var closes = words.count >= 3 && words[2] == "HTTP/1.0"
        var host: String? = nil
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = asciiLowercased(String(parts[0])), value = asciiLowercased(parts[1].trimmingSpaces)
            if name == "connection" { closes = value == "close" || (closes && value != "keep-alive") }
            if name == "host" && !value.isEmpty && value.utf8.allSatisfy({ isHostCharacter($0) }) { host = value }
        }
        return Request(method: words.first ?? "", path: words.count >= 2 ? words[1] : "", closes: closes, host: host)
    }

    /// ASCII letters in lower case (header names and tokens are ASCII; this
    /// needs none of Unicode's tables, which an Embedded image lacks).
    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 32 : $0 }, as: UTF8.self)
    }

    static func isHostCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
            || byte == 0x2e || byte == 0x2d || byte == 0x3a || byte == 0x5b || byte == 0x5d
    }
}

extension Substring {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
