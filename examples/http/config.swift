import MirageConfig

// An HTTP/1.1 server on TCP port 80: a page at /, a 256 KiB file at /big; each
// connection is served by a task of its own.
// Try it: mirage-config run --forward tcp:8080:80, then curl http://127.0.0.1:8080/
let requests = Key.boot("requests", doc: "Stop after answering this many requests (0: never)", default: 0, range: 0...1_000_000)

let idleTimeout = Key.boot("idle-timeout", doc: "Close a kept-alive connection after this many seconds without a request", default: 60,
                           range: 1...3600)
let logRequests = Key.boot("log-requests", doc: "Print a line per request answered", default: true)

let main = Job("HTTPServer", needs: .console, .stack, keys: [requests, idleTimeout, logRequests])

register("http", main(defaultConsole, genericStack()))
