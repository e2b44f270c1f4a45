/// Resolves Keys.names, printing each one's addresses in the order a
/// connection would try them (or why there are none), then GETs each of
/// Keys.urls, printing the status, the URL that answered after redirects,
/// the address it came from, and the body's length and BLAKE2s-256. Exits
/// 0, or 1 if a GET failed.
struct Fetch {
    static func start<Stack: NetworkStack>(console: some Console, stack: Stack) -> Int32 {
        let second: UInt64 = 1_000_000_000
        let limit = UInt64(Keys.timeout) * second
        if Keys.settle > 0 {
            // SLAAC's address and the advertisement's name server come a moment after boot (DAD takes a second).
            for _ in 0..<(Keys.settle * 10) {
                let hasGlobal = stack.ipv6Addresses.contains { !$0.isLinkLocal }
                let hasIPv6NameServer = stack.nameServers.contains { server in
                    if case .v6 = server.address { return true } else { return false }
                }
                if hasGlobal && hasIPv6NameServer { break }
                try? Tasks.sleep(nanoseconds: second / 10)
            }
        }
        print("name servers: " + stack.nameServers.map { $0.text }.joined(separator: " "))
        for name in Keys.names.split(separator: ",") {
            do throws(NetworkError) {
                let addresses = try stack.resolve(String(name), waitingAtMost: limit)
                let shown = addresses.count > 4 ? "\(addresses.count) addresses" : addresses.map { $0.text }.joined(separator: " ")
                print("\(name): \(shown)")
            } catch {
                print("\(name): \(error.reason.text)")
            }
        }
        print("resolver: \(Counters.dnsQueries) queries, \(Counters.dnsAnswersIgnored) answers ignored")
        var status: Int32 = 0
        for url in Keys.urls.split(separator: ",") {
            do throws(HTTPClientError) {
                let response = try HTTPClient.get(String(url), on: stack, waitingAtMost: limit)
                print("GET \(url): \(response.status) \(response.reason) from \(response.url.text) via \(response.peer.text)")
                print("body: \(response.body.count) bytes, blake2s \(hexText(BLAKE2s.hash(response.body)))")
            } catch {
                print("GET \(url) failed: \(error.reason)")
                status = 1
            }
        }
        return status
    }
}
