/// GETs Keys.path from Keys.server over TLS 1.3, Keys.fetches times, and
/// prints the status line and the body's length and SHA-256; exits 0, or 2
/// when TLS fails (saying why: the certificate's problem or the alert), 1 for
/// anything else.
struct HTTPSClient {
    static func start<TLS: TLSClients>(console: some Console, wallClock: some WallClock, tls: TLS) -> Int32 {
        if let now = wallClock.now() {
            print("time: \(now.iso8601) from \(wallClock.source)")
        } else {
            print("time: unknown, \(wallClock.source)")
        }
        guard let address = IPAddress(Keys.server) else {
            print("--server=\(Keys.server) is not an IP address")
            return 1
        }
        for _ in 0..<Keys.fetches {
            let status = fetch(from: address, tls: tls)
            guard status == 0 else { return status }
        }
        return 0
    }

    /// One connection, one GET: 0, or the exit status for what failed.
    static func fetch<TLS: TLSClients>(from address: IPAddress, tls: TLS) -> Int32 {
        let seconds: UInt64 = 1_000_000_000
        let connection: TLS.Connection
        do throws(NetworkError) {
            connection = try tls.connect(to: address, port: UInt16(Keys.port), serverName: Keys.name, waitingAtMost: 60 * seconds)
        } catch .tlsFailed {
            print("TLS failed: \(tls.lastFailure ?? "")")
            return 2
        } catch {
            print("cannot connect to \(Keys.server):\(Keys.port): \(error.reason.text)")
            return 1
        }
        print("connected to \(Keys.name) at \(Keys.server):\(Keys.port), \(connection.resumed ? "resuming the session" : "full handshake")")
        let request = "GET \(Keys.path) HTTP/1.1\r\nHost: \(Keys.name)\r\nConnection: close\r\n\r\n"
        var response: [UInt8] = []
        do throws(NetworkError) {
            try connection.write(Array(request.utf8)[...], waitingAtMost: 60 * seconds)
            while let bytes = try connection.read(atMost: 16_384, waitingAtMost: 60 * seconds) {
                response += bytes
                guard response.count <= 16 << 20 else { break }
            }
        } catch {
            print("the exchange failed: \(error.reason.text)")
            connection.abort()
            return 1
        }
        connection.close(waitingAtMost: 5 * seconds)
        guard let end = headerEnd(response) else {
            print("no HTTP response: \(response.count) bytes")
            return 1
        }
        let statusLine = response.prefix { $0 != 13 }
        print("status: \(String(decoding: statusLine, as: UTF8.self))")
        let body = Array(response[end...])
        print("body: \(body.count) bytes, sha256 \(hexText(SHA256.hash(body)))")
        return 0
    }

    /// Where the body starts: after the first empty line.
    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}
