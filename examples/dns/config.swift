import MirageConfig

// An authoritative DNS server: the zones of zones/ (one RFC 1035 master file
// a zone, named ZONE.zone: zones/example.test.zone serves example.test),
// baked into the image, answered over UDP and TCP on --port, with EDNS(0),
// truncation, referrals with glue, wildcards, and AXFR to --transfer-to.
// Try it: mirage-config run --forward udp:5353:53 --forward tcp:5353:53, then
//   dig @127.0.0.1 -p 5353 example.test SOA
//   dig @127.0.0.1 -p 5353 +tcp example.test AXFR     (with --transfer-to=10.0.2.2)
let port = Key.boot("port", doc: "The UDP and TCP port to answer on", default: 53, range: 1...65535)
let transferTo = Key.boot("transfer-to", doc: "Addresses (IPv4 or IPv6, comma-separated) that may transfer the zones (AXFR over TCP)",
                          default: "")
let queries = Key.boot("queries", doc: "Stop after answering this many queries (0: never)", default: 0, range: 0...10_000_000)
let logQueries = Key.boot("log-queries", doc: "Print a line per query answered", default: false)

let zones = crunch("zones", name: "zones")

let main = Job("NameServer", needs: .console, .stack, .kv, keys: [port, transferTo, queries, logQueries])

register("dns", main(defaultConsole, genericStack(), zones))
