import MirageConfig

// An HTTPS client: fetches a page over TLS 1.3 from a server (by default
// the host, 10.0.2.2 under QEMU's user network), checks its certificate
// against the trust anchors on a disk (a PEM bundle; Debian's
// /etc/ssl/certs/ca-certificates.crt works too) for the name asked for and
// at the board's time, then prints the page's status line and SHA-256;
// with --fetches=N it fetches N times, each after the first resuming the
// session of the one before from its ticket (no certificate again).
// Try it, with a server on the host:
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out ca.pem \
//       -subj /CN=localhost -addext subjectAltName=DNS:localhost
//   tar --format=ustar -cf anchors.tar ca.pem
//   openssl s_server -accept 8443 -cert ca.pem -key server.key -www &
//   mirage-config run
let server = Key.boot("server", doc: "The server's IPv4 address", default: "10.0.2.2")
let port = Key.boot("port", doc: "The server's TCP port", default: 8443, range: 1...65535)
let serverName = Key.boot("name", doc: "The host name to ask for and to check the certificate against", default: "localhost")
let path = Key.boot("path", doc: "The path to GET", default: "/")
let fetches = Key.boot("fetches", doc: "How many times to fetch it, each on a new connection", default: 1, range: 1...100)

let stack = genericStack()
let anchors = tarStore(on: disk("anchors", image: "anchors.tar"), name: "trustAnchors")

let main = Job("HTTPSClient", needs: .console, .wallClock, .tls, keys: [server, port, serverName, path, fetches])

register("https-client", main(defaultConsole, defaultWallClock, tlsClient(on: stack, keys: anchors, trustAnchors: "ca.pem",
                                                                           applicationProtocols: ["http/1.1"])))
