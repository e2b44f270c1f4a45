import MirageConfig

// A client of examples/echo: 64 KiB over TCP and a UDP datagram, each
// checked when they come back. examples/echo's boot test builds it for the
// host target and runs it on the other end of a QEMU unikernel's link
// (examples/echo/host_client_peer.py): two unikernels on one wire.
let server = Key.boot("server", doc: "The echo server's IPv4 or IPv6 address", default: "10.0.3.2")

let main = Job("EchoClient", needs: .console, .stack, keys: [server])

register("echo-client", main(defaultConsole, genericStack()))
