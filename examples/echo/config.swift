import MirageConfig

// A UDP echo server: every datagram to --port comes back to its sender.
// Try it: mirage-config run --forward udp:5555:7, then from the host
//   python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"hi", ("127.0.0.1", 5555)); print(s.recv(99))'
let port = Key.boot("port", doc: "The UDP port to echo on", default: 7, range: 1...65535)
let count = Key.boot("count", doc: "Stop after echoing this many datagrams (0: never)", default: 0, range: 0...1_000_000)

let main = Job("Echo", needs: .console, .ipv4, keys: [port, count])

register("echo", main(defaultConsole, ipv4Stack()))
