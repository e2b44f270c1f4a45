import MirageConfig

// An IPv4 host that answers ARP and ping until it has answered three echo
// requests (or 30 s pass): the network's packet-level boot test, with scapy
// as the peer on a Unix datagram socket.
let main = Job("Pinged", needs: .console, .stack)

register("net-ping", main(defaultConsole, genericStack()))
