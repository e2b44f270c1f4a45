/// GETs Keys.url Keys.fetches times with the stack's HTTP client, over
/// TLS 1.3 for https://, and prints the status and the body's length and
/// SHA-256; exits 0, or 2 when TLS fails (saying why: the certificate's
/// problem or the alert), 1 for anything else.
struct HTTPSClient {
    static func start<Stack: NetworkStack, TLS: TLSClients>(console: some Console, wallClock: some WallClock, stack: Stack,
                                                             tls: TLS) -> Int32 {
        if let now = wallClock.now() {
            print("time: \(now.iso8601) from \(wallClock.source)")
        } else {
            print("time: unknown, \(wallClock.source)")
        }
        for _ in 0..<Keys.fetches {
            do throws(HTTPClientError) {
                let response = try HTTPClient.get(Keys.url, on: stack, tls: tls, waitingAtMost: 60_000_000_000)
                print("GET \(Keys.url): \(response.status) \(response.reason) from \(response.url.text) via \(response.peer.text)")
                print("body: \(response.body.count) bytes, sha256 \(hexText(SHA256.hash(response.body)))")
            } catch .network(.tlsFailed) {
                print("TLS failed: \(tls.lastFailure ?? "")")
                return 2
            } catch {
                print("GET \(Keys.url) failed: \(error.reason)")
                return 1
            }
        }
        return 0
    }
}
