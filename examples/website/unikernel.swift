/// Serves the files of a key-value store over HTTP/1.1, each connection in a
/// task of its own: GET and HEAD (405 otherwise), Content-Type by extension,
/// the value's digest as its ETag (git's blob name on a git store) with
/// If-None-Match (304), one byte range per request (206, 416), index.html
/// for a folder (a folder without its slash is redirected to it), 404. The
/// same code serves a folder baked into the image, a commit, or a git pack
/// on a disk: config.swift's --site chooses.
struct Website {
    /// Requests answered so far, by every connection's task.
    nonisolated(unsafe) static var answered = 0
    static var done: Bool { Keys.requests != 0 && answered >= Keys.requests }
    /// A body goes out in pieces of this size, each read from the store when it is sent.
    static let pieceSize = 64 * 1024

    static func start<Stack: NetworkStack, Files: KeyValueReader>(console: some Console, stack: Stack, kv: Files) -> Int32 {
        let listener: Stack.Listener
        do throws(NetworkError) {
            listener = try stack.listen(tcpPort: 80)
        } catch {
            print("cannot listen on TCP port 80: \(error.reason.text)")
            return 1
        }
        print("serving the website on \(stack.ipv4.map { IPv4Text.text($0.address) } ?? "[::]"):80")
        // Inflating a git object takes more stack than a task's default.
        let clients = listener.serveEach(name: "website-client", stackSize: 64 * 1024, until: { done }) { serve($0, kv) }
        for client in clients { try? client.join(waitingAtMost: 5_000_000_000) }
        print("answered \(answered) requests")
        return 0
    }

    /// One connection's requests, until the client closes, asks to close, or stays idle too long.
    static func serve(_ connection: some TCPStream, _ kv: some KeyValueReader) {
        var pending: [UInt8] = []
        while !done {
            guard let request = HTTPRequest.next(connection, &pending) else { break }
            // One snapshot a request: a remote git store's pull may switch commits
            // between the pieces of a large file, and an answer must be of one commit.
            let files = kv.snapshot()
            let answer = Answer.to(request, from: files)
            do throws(NetworkError) {
                try send(answer, for: request, on: connection, from: files)
                answered += 1
                if Keys.logRequests { print("\(answer.status.prefix(3)) \(request.method) \(request.target)") }
            } catch {
                print("could not answer \(request.target): \(error.reason.text)")
                break
            }
            if request.closes { break }
        }
        connection.close(waitingAtMost: 5_000_000_000)
    }

    static func send(_ answer: Answer, for request: HTTPRequest, on connection: some TCPStream, from kv: some KeyValueReader) throws(NetworkError) {
        var head = "HTTP/1.1 \(answer.status)\r\n"
        for (name, value) in answer.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(answer.length)\r\nConnection: \(request.closes ? "close" : "keep-alive")\r\n\r\n"
        let withBody = request.method != "HEAD" && answer.length > 0
        guard withBody else {
            try connection.write(Array(head.utf8), waitingAtMost: 30_000_000_000)
            return
        }
        switch answer.body {
        case .bytes(let bytes):
            try connection.write(Array(head.utf8) + bytes, waitingAtMost: 30_000_000_000)
        case .value(let key, let offset):
            try connection.write(Array(head.utf8), waitingAtMost: 30_000_000_000)
            var sent = 0
            while sent < answer.length {
                let piece: [UInt8]
                do throws(KeyValueError) {
                    piece = try kv.get(key, offset: offset + sent, length: min(pieceSize, answer.length - sent))
                } catch {
                    // The head is out: all a server can do is end the connection short.
                    print("reading \(key) failed midway: \(error.reason.text)")
                    connection.abort()
                    throw .reset
                }
                guard !piece.isEmpty else {
                    connection.abort()
                    throw .reset
                }
                try connection.write(piece, waitingAtMost: 30_000_000_000)
                sent += piece.count
            }
        }
    }
}

/// A request's head: the method, the target, and the headers the server reads.
struct HTTPRequest {
    let method: String
    let target: String
    /// The client asked to close after this answer.
    let closes: Bool
    let ifNoneMatch: String?
    let range: String?

    /// The next request on the connection (its head, up to the blank line), or nil at its end.
    static func next(_ connection: some TCPStream, _ pending: inout [UInt8]) -> HTTPRequest? {
        while headEnd(pending) == nil {
            // A reset, an idle connection, a head over 8 KiB and the end of the connection all end its requests.
            guard pending.count < 8192,
                  let bytes = try? connection.read(atMost: 2048, waitingAtMost: UInt64(Keys.idleTimeout) * 1_000_000_000) else { return nil }
            pending += bytes
        }
        let end = headEnd(pending)!
        let lines = pending[..<(end - 4)].split(separator: 10).map { line in
            String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
        }
        pending.removeFirst(end)
        let requestLine = (lines.first ?? "").split(separator: " ").map(String.init)
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((ascii(lowercased: String(line[..<colon])), String(value)))
        }
        func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
        let version = requestLine.count >= 3 ? requestLine[2] : "HTTP/1.0"
        let connection = ascii(lowercased: header("connection") ?? "")
        // HTTP/1.1 keeps the connection unless asked to close; HTTP/1.0 closes unless asked to keep it.
        let closes = version == "HTTP/1.0" ? connection != "keep-alive" : connection == "close"
        return HTTPRequest(method: requestLine.first ?? "", target: requestLine.count >= 2 ? requestLine[1] : "",
                           closes: closes || requestLine.count != 3, ifNoneMatch: header("if-none-match"), range: header("range"))
    }

    /// Where a request's head ends: just after its first blank line.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for start in 0...(bytes.count - 4) where bytes[start] == 13 && bytes[start + 1] == 10 && bytes[start + 2] == 13 && bytes[start + 3] == 10 {
            return start + 4
        }
        return nil
    }
}

func ascii(lowercased text: String) -> String {
    String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
}

/// What the server answers: a status, headers, and a body of bytes or of a
/// range of a value, read from the store as it is sent.
struct Answer {
    enum Body {
        case bytes([UInt8])
        case value(key: String, offset: Int)
    }
    let status: String
    var headers: [(String, String)] = []
    let body: Body
    let length: Int

    static func page(_ status: String, _ text: String, headers: [(String, String)] = []) -> Answer {
        let html = Array("<!doctype html>\n<html><head><title>\(status)</title></head><body><h1>\(status)</h1><p>\(text)</p></body></html>\n".utf8)
        return Answer(status: status, headers: [("Content-Type", "text/html; charset=utf-8")] + headers, body: .bytes(html), length: html.count)
    }

    static func to(_ request: HTTPRequest, from kv: some KeyValueReader) -> Answer {
        guard request.method == "GET" || request.method == "HEAD" else {
            return page("405 Method Not Allowed", "This site is read-only.", headers: [("Allow", "GET, HEAD")])
        }
        guard let path = Answer.path(of: request.target) else { return page("400 Bad Request", "That is not a path.") }
        do throws(KeyValueError) {
            var key = path
            switch try kv.exists(key) {
            case nil:
                return page("404 Not Found", "Nothing is here.")
            case .dictionary:
                // A folder's page is its index.html; its links are relative to the folder, so it ends in a slash.
                if !request.target.split(separator: "?").first.map({ $0.hasSuffix("/") })! {
                    return page("301 Moved Permanently", "It is a folder.", headers: [("Location", "/" + path + "/")])
                }
                key = path.isEmpty ? "index.html" : path + "/index.html"
                guard try kv.exists(key) == .value else { return page("404 Not Found", "This folder has no index.html.") }
            case .value:
                break
            }
            let size = try kv.size(key)
            let tag = "\"" + hex(try kv.digest(key)) + "\""
            var headers: [(String, String)] = [("Content-Type", contentType(of: key)), ("ETag", tag), ("Accept-Ranges", "bytes")]
            if let match = request.ifNoneMatch, match == "*" || match.split(separator: ",").contains(where: { $0.drop { $0 == " " } == tag }) {
                return Answer(status: "304 Not Modified", headers: headers, body: .bytes([]), length: 0)
            }
            if let range = request.range {
                switch byteRange(range, size: size) {
                case .whole:
                    break
                case .unsatisfiable:
                    return page("416 Range Not Satisfiable", "The file has \(size) bytes.", headers: [("Content-Range", "bytes */\(size)")])
                case .part(let first, let last):
                    headers.append(("Content-Range", "bytes \(first)-\(last)/\(size)"))
                    return Answer(status: "206 Partial Content", headers: headers, body: .value(key: key, offset: first), length: last - first + 1)
                }
            }
            return Answer(status: "200 OK", headers: headers, body: .value(key: key, offset: 0), length: size)
        } catch {
            return page("500 Internal Server Error", "The store failed: \(error.reason.text).")
        }
    }

    /// The store's key for a request target: its path without the query,
    /// %-escapes decoded, no "." or ".." part, no NUL; nil when it is none.
    static func path(of target: String) -> String? {
        guard target.hasPrefix("/") else { return nil }
        let raw = Array(target.utf8.prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") })
        var bytes: [UInt8] = []
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "%") {
                guard index + 2 < raw.count, let high = hexDigit(raw[index + 1]), let low = hexDigit(raw[index + 2]) else { return nil }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(raw[index])
                index += 1
            }
        }
        guard !bytes.contains(0) else { return nil }
        let parts = bytes.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else { return nil }
        return parts.joined(separator: "/")
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }

    enum ByteRange: Equatable {
        case whole
        case part(first: Int, last: Int)
        case unsatisfiable
    }

    /// One range of a Range header (RFC 9110 14.1.2: "bytes=FIRST-LAST",
    /// "bytes=FIRST-", "bytes=-SUFFIX"); several ranges, or one that does
    /// not parse, are ignored and the whole value is sent, as the RFC allows.
    static func byteRange(_ header: String, size: Int) -> ByteRange {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return .whole }
        let first = number(spec[0]), last = number(spec[1])
        switch (spec[0].isEmpty, spec[1].isEmpty) {
        case (true, false):
            guard let suffix = last else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .part(first: max(0, size - suffix), last: size - 1)
        case (false, _):
            guard let first else { return .whole }
            if !spec[1].isEmpty && last == nil { return .whole }
            if let last, last < first { return .whole }
            guard first < size else { return .unsatisfiable }
            return .part(first: first, last: min(last ?? (size - 1), size - 1))
        default:
            return .whole
        }
    }

    /// Decimal digits as a number; nil if there are none or another character.
    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        // More digits than a 32-bit Int holds: past the end of any value.
        guard text.utf8.count <= 9 else { return Int.max / 2 }
        var value = 0
        for digit in text.utf8 { value = value * 10 + Int(digit - 48) }
        return value
    }

    static let types: [(String, String)] = [
        ("html", "text/html; charset=utf-8"), ("htm", "text/html; charset=utf-8"), ("css", "text/css; charset=utf-8"),
        ("js", "text/javascript; charset=utf-8"), ("json", "application/json"), ("txt", "text/plain; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"), ("xml", "application/xml"), ("svg", "image/svg+xml"), ("png", "image/png"),
        ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("gif", "image/gif"), ("webp", "image/webp"), ("ico", "image/x-icon"),
        ("pdf", "application/pdf"), ("mp4", "video/mp4"), ("webm", "video/webm"), ("woff2", "font/woff2"), ("wasm", "application/wasm"),
    ]

    /// The Content-Type its extension says (the common ones of a website), else bytes.
    static func contentType(of key: String) -> String {
        let name = key.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "application/octet-stream" }
        let ext = ascii(lowercased: String(name[name.index(after: dot)...]))
        return types.first { $0.0 == ext }?.1 ?? "application/octet-stream"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            if byte < 16 { text += "0" }
            text += String(byte, radix: 16)
        }
        return text
    }
}
