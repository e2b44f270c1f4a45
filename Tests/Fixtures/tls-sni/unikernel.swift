/// Greets each TLS client with one line, one client after another, until it
/// has greeted `Keys.connections` of them. Which certificate a client got is
/// the peer's to check: the handshake's choice happens in the TLS device.
struct NamedServer {
    static func start<TLS: TLSServers>(console: some Console, stack: some NetworkStack, tls: TLS) -> Int32 {
        let listener: TLS.Listener
        do throws(NetworkError) {
            listener = try tls.listen(tlsPort: 443)
        } catch {
            print("cannot listen on port 443: \(error.reason.text)")
            return 1
        }
        print("serving TLS on port 443 with two certificates")
        var greeted = 0
        while greeted < Keys.connections {
            let connection: TLS.Listener.Connection
            do throws(NetworkError) {
                connection = try listener.accept(waitingAtMost: 120_000_000_000)
            } catch {
                print("no client came: \(error.reason.text)")
                return 1
            }
            do throws(NetworkError) {
                try connection.write(Array("hello\n".utf8), waitingAtMost: 30_000_000_000)
                connection.close(waitingAtMost: 5_000_000_000)
                greeted += 1
                print("greeted client \(greeted)")
            } catch {
                print("TLS failed with a client: \(error.reason.text)")
                connection.abort()
            }
        }
        return 0
    }
}
