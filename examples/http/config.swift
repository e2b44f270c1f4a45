import MirageConfig

// An HTTP/1.1 server on TCP port 80: a page at /, a 256 KiB file at /big.
// Try it: mirage-config run --forward tcp:8080:80, then curl http://127.0.0.1:8080/
let requests = Key.boot("requests", doc: "Stop after answering this many requests (0: never)", default: 0, range: 0...1_000_000)

let main = Job("HTTPServer", needs: .console, .stack, keys: [requests])

register("http", main(defaultConsole, genericStack()))
