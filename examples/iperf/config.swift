import MirageConfig

// An iperf3 server: the stock `iperf3 -c` client measures the unikernel's TCP,
// both ways (-R: the unikernel sends).
// Try it: mirage-config run --forward tcp:5201:5201, then iperf3 -c 127.0.0.1 -t 5
let port = Key.boot("port", doc: "The TCP port iperf3 clients connect to", default: 5201, range: 1...65535)
let tests = Key.boot("tests", doc: "Stop after this many tests (0: never)", default: 0, range: 0...1_000_000)

let main = Job("IperfServer", needs: .console, .stack, keys: [port, tests])

register("iperf", main(defaultConsole, genericStack()))
