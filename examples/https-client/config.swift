import MirageConfig

// An HTTPS client: GETs a URL (https:// or http://, redirects followed)
// with the stack's HTTP client, over TLS 1.3 from the TLS device: the name
// resolved (by the stack's resolver, or --hosts), its addresses raced, the
// server's certificate checked against the trust anchors on a disk (a PEM
// bundle; Debian's /etc/ssl/certs/ca-certificates.crt works too) for the
// URL's host and at the board's time; then prints the status and the
// body's length and SHA-256. With --fetches=N it fetches N times, each after
// the first resuming the session of the one before from its ticket.
// Try it, with a server on the host (QEMU's user network shows it as 10.0.2.2):
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out ca.pem \
//       -subj /CN=localhost -addext subjectAltName=DNS:localhost
//   tar --format=ustar -cf anchors.tar ca.pem
//   openssl s_server -accept 8443 -cert ca.pem -key server.key -www &
//   mirage-config run -- --hosts=localhost=10.0.2.2
let url = Key.boot("url", doc: "The URL to GET", default: "https://localhost:8443/")
let fetches = Key.boot("fetches", doc: "How many times to fetch it, each on a new connection", default: 1, range: 1...100)

let stack = genericStack()
let anchors = tarStore(on: disk("anchors", image: "anchors.tar"), name: "trustAnchors")

let main = Job("HTTPSClient", needs: .console, .wallClock, .stack, .tls, keys: [url, fetches])

register("https-client", main(defaultConsole, defaultWallClock, stack, tlsClient(on: stack, keys: anchors, trustAnchors: "ca.pem",
                                                                                  applicationProtocols: ["http/1.1"])))
