import MirageConfig

// An echo server (RFC 862) on UDP and TCP: every datagram to --port comes back
// to its sender, and every TCP stream back on its connection.
// Try it: mirage-config run --forward udp:5555:7 (or tcp:5555:7), then from the host
//   python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"hi", ("127.0.0.1", 5555)); print(s.recv(99))'
//   nc 127.0.0.1 5555
let port = Key.boot("port", doc: "The UDP and TCP port to echo on", default: 7, range: 1...65535)
let count = Key.boot("count", doc: "Stop after echoing this many datagrams and TCP streams (0: never)", default: 0, range: 0...1_000_000)
// The other way round: the unikernel opens a TCP connection itself and echoes what comes on it.
let connect = Key.boot("connect", doc: "Also connect to this IPv4 or IPv6 address and echo what it sends (\"\": no)", default: "")
let connectPort = Key.boot("connect-port", doc: "The port --connect connects to", default: 7, range: 1...65535)

let main = Job("Echo", needs: .console, .stack, keys: [port, count, connect, connectPort])

register("echo", main(defaultConsole, genericStack()))
