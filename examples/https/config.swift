import MirageConfig

// HTTPS: HTTP/1.1 over TLS 1.3 on port 443, the page and 256 KiB file of
// examples/http, each connection served by a task of its own; port 80 answers
// every request with a redirect to https://. The certificate and its key
// (Ed25519, or P-256) are PEM files on a disk (a tar archive), never
// compiled into the image:
//   mirage-config tls self-signed --name localhost -o .
//   tar --format=ustar -cf keys.tar server.pem server.key
// Try it: mirage-config run --forward tcp:8443:443, then
//   curl --cacert server.pem --resolve localhost:8443:127.0.0.1 https://localhost:8443/
let requests = Key.boot("requests", doc: "Stop after answering this many requests, on either port (0: never)", default: 0, range: 0...1_000_000)
let idleTimeout = Key.boot("idle-timeout", doc: "Close a connection after this many seconds without a request", default: 60,
                           range: 1...3600)

let stack = genericStack()
let keys = tarStore(on: disk("keys", image: "keys.tar"), name: "credentials")

let main = Job("HTTPSServer", needs: .console, .stack, .tls, keys: [requests, idleTimeout])

register("https", main(defaultConsole, stack, tlsServer(on: stack, keys: keys, applicationProtocols: ["http/1.1"])))
