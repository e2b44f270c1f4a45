/// A small HTTP/1.1 client (RFC 9110, 9112): GET over TCP, or TLS with the
/// TLS device, redirects followed, a body by Content-Length, chunked
/// transfer coding, or to the connection's end. The reading is a pure state machine (`HTTPResponseReader`, bytes
/// in as they come, host-tested); `HTTPClient.get` is its I/O over any
/// stack, one connection a request (`Connection: close`).
public enum HTTPClient {
    /// Redirects followed at most (RFC 9110 15.4 leaves it to the client; curl's default is 50, browsers' 20).
    public static let defaultRedirects = 10

    /// GETs `url` (`http://`) over `stack`, following up to `redirects`
    /// redirects (301, 302, 303, 307, 308) to other `http://` URLs; a body
    /// longer than `maximumBody` is an error, as is a whole exchange longer
    /// than `nanoseconds`.
    /// `fields`: more request fields, the caller's own.
    public static func get<Stack: NetworkStack>(_ url: String, on stack: Stack, redirects: Int = defaultRedirects,
                                               fields: [HTTPHeader] = [], maximumBody: Int = 16 << 20,
                                               waitingAtMost nanoseconds: UInt64) throws(HTTPClientError) -> HTTPResponse {
        try get(url, redirects: redirects, fields: fields, maximumBody: maximumBody, waitingAtMost: nanoseconds,
                plain: { url, left throws(NetworkError) in try stack.connect(to: url, waitingAtMost: left) },
                secure: nil as ((NetworkURL, UInt64) throws(NetworkError) -> Stack.Connection)?)
    }

    /// The same for `http://` and `https://` URLs (and redirects between
    /// them): an `https://` one through `tls`, its certificate checked for the
    /// URL's host at the wall clock's time.
    public static func get<Stack: NetworkStack, TLS: TLSClients>(_ url: String, on stack: Stack, tls: TLS, redirects: Int = defaultRedirects,
                                                                maximumBody: Int = 16 << 20,
                                                                waitingAtMost nanoseconds: UInt64) throws(HTTPClientError) -> HTTPResponse {
        try get(url, redirects: redirects, fields: [], maximumBody: maximumBody, waitingAtMost: nanoseconds,
                plain: { url, left throws(NetworkError) in try stack.connect(to: url, waitingAtMost: left) },
                secure: { url, left throws(NetworkError) in try tls.connect(to: url, resolvingWith: stack, waitingAtMost: left) })
    }

    /// POSTs `body` to `url` (`http://`) over `stack` with the `fields` given
    /// (Content-Type among them), and reads the response; no redirect is
    /// followed (a POST is not repeated elsewhere unasked: RFC 9110 15.4).
    public static func post<Stack: NetworkStack>(_ body: [UInt8], to url: String, fields: [HTTPHeader], on stack: Stack,
                                                maximumBody: Int = 16 << 20,
                                                waitingAtMost nanoseconds: UInt64) throws(HTTPClientError) -> HTTPResponse {
        guard let target = NetworkURL(url) else { throw .badURL }
        guard target.scheme == "http" else { throw .unsupportedScheme }
        return try exchange(target, request: request(method: "POST", for: target, fields: fields, body: body), maximumBody: maximumBody,
                            deadline: Tasks.deadline(afterNanoseconds: nanoseconds)) { url, left throws(NetworkError) in
            try stack.connect(to: url, waitingAtMost: left)
        }
    }

    /// Both `get`s: `plain` connects for `http://`, `secure` (if any) for `https://`.
    static func get<Plain: TCPStream, Secure: TCPStream>(_ url: String, redirects: Int, fields: [HTTPHeader], maximumBody: Int,
                                                         waitingAtMost nanoseconds: UInt64,
                                                         plain: (NetworkURL, UInt64) throws(NetworkError) -> Plain,
                                                         secure: ((NetworkURL, UInt64) throws(NetworkError) -> Secure)?)
        throws(HTTPClientError) -> HTTPResponse {
        guard var current = NetworkURL(url) else { throw .badURL }
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        var followed = 0
        while true {
            let response: HTTPResponse
            switch current.scheme {
            case "http":
                response = try exchange(current, request: request(for: current, fields: fields), maximumBody: maximumBody, deadline: deadline,
                                        connect: plain)
            case "https":
                guard let secure else { throw .unsupportedScheme }
                response = try exchange(current, request: request(for: current, fields: fields), maximumBody: maximumBody, deadline: deadline,
                                        connect: secure)
            default:
                throw .unsupportedScheme
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.header("location") else { return response }
            guard followed < redirects else { throw .tooManyRedirects }
            guard let next = current.resolving(location) else { throw .badResponse("a Location that is not a URL") }
            current = next
            followed += 1
        }
    }

    /// One request (its bytes) on a connection of its own, and its response.
    static func exchange<Stream: TCPStream>(_ url: NetworkURL, request: [UInt8], maximumBody: Int, deadline: UInt64,
                                            connect: (NetworkURL, UInt64) throws(NetworkError) -> Stream) throws(HTTPClientError) -> HTTPResponse {
        let connection: Stream
        do throws(NetworkError) {
            connection = try connect(url, Tasks.nanoseconds(untilDeadline: deadline))
        } catch {
            throw .network(error)
        }
        var reader = HTTPResponseReader(url: url, peer: connection.remoteAddress, maximumBody: maximumBody)
        var progress = HTTPResponseReader.Progress.needMore
        do throws(NetworkError) {
            try connection.write(request, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
            while progress == .needMore {
                if let bytes = try connection.read(atMost: 16_384, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline)) {
                    progress = reader.take(bytes)
                } else {
                    progress = reader.finish()
                }
            }
        } catch {
            connection.abort()
            throw .network(error)
        }
        switch progress {
        case .done(let response):
            connection.close(waitingAtMost: 1_000_000_000)
            return response
        case .failed(let reason):
            connection.abort()
            throw .badResponse(reason)
        case .needMore:
            throw .badResponse("no response")       // not reached: the loop ends on anything else
        }
    }

    /// The request's bytes: the URL's target and authority are checked to
    /// hold no space or control byte, so nothing here can end a line early.
    /// `fields` are the caller's own (names and values it wrote itself, never
    /// a person's text), and a body goes with its Content-Length.
    public static func request(method: String = "GET", for url: NetworkURL, fields: [HTTPHeader] = [], body: [UInt8]? = nil) -> [UInt8] {
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.authority)\r\nUser-Agent: mirage-config\r\nAccept: */*\r\n"
        for field in fields { head += "\(field.name): \(field.value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        return Array((head + "Connection: close\r\n\r\n").utf8) + (body ?? [])
    }
}

public enum HTTPClientError: Error, Equatable {
    case badURL
    /// Not `http://`, nor `https://` where a TLS device was given.
    case unsupportedScheme
    case tooManyRedirects
    case network(NetworkError)
    case badResponse(StaticString)

    public var reason: String {
        switch self {
        case .badURL: return "not a URL such as http://host[:port]/path"
        case .unsupportedScheme: return "not an http:// URL (nor an https:// one, with a TLS device)"
        case .tooManyRedirects: return "too many redirects"
        case .network(let error): return error.reason.text
        case .badResponse(let why): return "a malformed response: " + why.text
        }
    }

    public static func == (left: HTTPClientError, right: HTTPClientError) -> Bool { left.reason == right.reason }
}

/// A response: its status, its header fields in order, its body.
public struct HTTPResponse: Equatable {
    public let status: Int
    public let reason: String
    public let headers: [HTTPHeader]
    public let body: [UInt8]
    /// The URL it answered (after the redirects).
    public let url: NetworkURL
    /// The address it came from (the one Happy Eyeballs connected to).
    public let peer: IPAddress

    /// The first field named `name` (names compare without case).
    public func header(_ name: String) -> String? {
        headers.first { HTTPHeader.sameName($0.name, name) }?.value
    }
}

public struct HTTPHeader: Equatable {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }

    static func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
}

/// Reads one response from its bytes as they arrive (RFC 9112): the status
/// line and fields (at most 16 KiB of them), interim 1xx responses passed
/// over, then the body as its framing says (section 6.3): none for 204 and
/// 304, chunked if the last transfer coding is chunked, Content-Length if
/// given (one value, digits only), else to the end of the connection.
/// Anything else is `.failed` with the reason; nothing traps.
public struct HTTPResponseReader {
    public enum Progress: Equatable {
        case needMore
        case done(HTTPResponse)
        case failed(StaticString)

        public static func == (left: Progress, right: Progress) -> Bool {
            switch (left, right) {
            case (.needMore, .needMore): return true
            case (.done(let a), .done(let b)): return a == b
            case (.failed(let a), .failed(let b)): return a.text == b.text
            default: return false
            }
        }
    }

    enum Framing: Equatable {
        case length(Int)
        case chunked
        case untilClose
    }

    enum Phase: Equatable {
        case head
        case body(Framing)
        /// Chunked: a chunk's size line next, or `left` bytes of the chunk and its CRLF.
        case chunkSize
        case chunkData(left: Int)
        case trailers
        case finished
    }

    static let headLimit = 16 * 1024

    let url: NetworkURL
    let peer: IPAddress
    let maximumBody: Int
    var buffer: [UInt8] = []
    var phase = Phase.head
    var status = 0
    var reason = ""
    var headers: [HTTPHeader] = []
    var body: [UInt8] = []

    public init(url: NetworkURL, peer: IPAddress, maximumBody: Int) {
        self.url = url
        self.peer = peer
        self.maximumBody = maximumBody
    }

    /// Bytes that came.
    public mutating func take(_ bytes: [UInt8]) -> Progress {
        guard phase != .finished else { return .failed("bytes after the response") }
        buffer += bytes
        return advance()
    }

    /// The connection ended.
    public mutating func finish() -> Progress {
        if case .body(.untilClose) = phase {
            body += buffer
            buffer = []
            guard body.count <= maximumBody else { return .failed("a body longer than the limit") }
            phase = .finished
            return .done(response)
        }
        let progress = advance()
        if case .done = progress { return progress }
        if case .failed = progress { return progress }
        return .failed("the connection ended before the response did")
    }

    var response: HTTPResponse { HTTPResponse(status: status, reason: reason, headers: headers, body: body, url: url, peer: peer) }

    mutating func advance() -> Progress {
        while true {
            switch phase {
            case .head:
                guard let end = firstIndex(of: [13, 10, 13, 10], in: buffer) else {
                    return buffer.count > HTTPResponseReader.headLimit ? .failed("a head longer than 16 KiB") : .needMore
                }
                guard end + 4 <= HTTPResponseReader.headLimit else { return .failed("a head longer than 16 KiB") }
                let head = Array(buffer[0..<end])
                buffer.removeFirst(end + 4)
                if let failure = readHead(head) { return .failed(failure) }
                if (100...199).contains(status) {       // interim: the real response follows
                    headers = []
                    continue
                }
                switch framing() {
                case .failure(let error): return .failed(error.reason)
                case .success(let framing):
                    phase = framing == .chunked ? .chunkSize : .body(framing)
                    // A body of known length gets its room once (a large one never needs two growing copies).
                    if case .length(let length) = framing, length <= maximumBody { buffer.reserveCapacity(length) }
                }
            case .body(.length(let length)):
                guard length <= maximumBody else { return .failed("a body longer than the limit") }
                guard buffer.count >= length else { return .needMore }
                if buffer.count == length {
                    body = buffer        // the whole buffer is the body: taken, not copied
                    buffer = []
                } else {
                    body = Array(buffer[0..<length])
                    buffer.removeFirst(length)
                }
                phase = .finished
            case .body(.untilClose):
                body += buffer
                buffer = []
                return body.count > maximumBody ? .failed("a body longer than the limit") : .needMore
            case .body(.chunked):
                phase = .chunkSize
            case .chunkSize:
                guard let end = firstIndex(of: [13, 10], in: buffer) else {
                    return buffer.count > 1024 ? .failed("a chunk size line longer than 1 KiB") : .needMore
                }
                let line = buffer[0..<end].prefix { $0 != 59 }      // chunk extensions (;...) are ignored
                buffer.removeFirst(end + 2)
                guard let size = HTTPResponseReader.hexNumber(line) else { return .failed("a chunk size that is not hexadecimal") }
                if size == 0 {
                    phase = .trailers
                } else {
                    guard size <= maximumBody - body.count else { return .failed("a body longer than the limit") }
                    phase = .chunkData(left: size)
                }
            case .chunkData(let left):
                guard buffer.count >= left + 2 else {
                    return .needMore
                }
                guard buffer[left] == 13, buffer[left + 1] == 10 else { return .failed("a chunk not followed by CRLF") }
                body += buffer[0..<left]
                buffer.removeFirst(left + 2)
                phase = .chunkSize
            case .trailers:
                // Trailer fields, if any, end with an empty line; they are read and dropped.
                guard let end = firstIndex(of: [13, 10], in: buffer) else {
                    return buffer.count > HTTPResponseReader.headLimit ? .failed("trailers longer than 16 KiB") : .needMore
                }
                buffer.removeFirst(end + 2)
                if end == 0 { phase = .finished }
            case .finished:
                return buffer.isEmpty ? .done(response) : .failed("bytes after the response")
            }
        }
    }

    /// The status line and the fields; the reason it is malformed, or nil.
    mutating func readHead(_ head: [UInt8]) -> StaticString? {
        var lines = HTTPResponseReader.lines(head)
        guard !lines.isEmpty else { return "no status line" }
        let statusLine = lines.removeFirst()
        guard statusLine.count >= 12, Array(statusLine[0..<7]) == Array("HTTP/1.".utf8), statusLine[8] == 32,
              statusLine[9...11].allSatisfy({ $0 >= 48 && $0 <= 57 }), statusLine.count == 12 || statusLine[12] == 32 else {
            return "a status line that is not HTTP/1.x's"
        }
        status = statusLine[9...11].reduce(0) { $0 * 10 + Int($1 - 48) }
        reason = statusLine.count > 13 ? String(decoding: statusLine[13...], as: UTF8.self) : ""
        for line in lines {
            guard let colon = line.firstIndex(of: 58), colon > 0 else { return "a header line without a name and a colon" }
            let name = line[0..<colon]
            // RFC 9112 5.1: no whitespace between a field's name and its colon; 5.2: no line folding.
            guard name.allSatisfy({ $0 > 32 && $0 < 127 }) else { return "a header name with a space or a control byte" }
            let value = line[(colon + 1)...].drop { $0 == 32 || $0 == 9 }
            let trimmed = value.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
            headers.append(HTTPHeader(name: String(decoding: name, as: UTF8.self), value: String(decoding: trimmed, as: UTF8.self)))
        }
        return nil
    }

    /// Section 6.3's order.
    func framing() -> Result<Framing, FramingError> {
        if status == 204 || status == 304 { return .success(.length(0)) }
        let encodings = headers.filter { HTTPHeader.sameName($0.name, "transfer-encoding") }
        if let last = encodings.last {
            let codings = last.value.split(separator: ",").map { $0.filter { $0 != " " && $0 != "\t" } }
            guard let final = codings.last, HTTPHeader.sameName(String(final), "chunked") else {
                return .failure(FramingError("a transfer coding that is not chunked"))
            }
            return .success(.chunked)
        }
        let lengths = headers.filter { HTTPHeader.sameName($0.name, "content-length") }
        guard let first = lengths.first else { return .success(.untilClose) }
        guard lengths.allSatisfy({ $0.value == first.value }), !first.value.isEmpty, first.value.utf8.count <= 9,
              first.value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let length = Int(first.value) else {
            return .failure(FramingError("a Content-Length that is not one number"))
        }
        return .success(.length(length))
    }

    struct FramingError: Error {
        let reason: StaticString
        init(_ reason: StaticString) { self.reason = reason }
    }

    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = [], start = 0, index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 {
                lines.append(Array(bytes[start..<index]))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(Array(bytes[start...]))
        return lines
    }

    static func hexNumber(_ digits: ArraySlice<UInt8>) -> Int? {
        let trimmed = digits.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
        guard !trimmed.isEmpty, trimmed.count <= 7 else { return nil }
        var value = 0
        for digit in trimmed {
            switch digit {
            case 48...57: value = value * 16 + Int(digit - 48)
            case 65...70: value = value * 16 + Int(digit - 55)
            case 97...102: value = value * 16 + Int(digit - 87)
            default: return nil
            }
        }
        return value
    }
}
