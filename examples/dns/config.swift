import MirageConfig

// An authoritative DNS server: the zones of zones/ (one RFC 1035 master file
// a zone, named ZONE.zone: zones/example.test.zone serves example.test),
// from a store (below), answered over UDP and TCP on --port, with EDNS(0),
// truncation, referrals with glue, wildcards, and AXFR to --transfer-to.
// Try it: mirage-config run --forward udp:5353:53 --forward tcp:5353:53, then
//   dig @127.0.0.1 -p 5353 example.test SOA
//   dig @127.0.0.1 -p 5353 +tcp example.test AXFR     (with --transfer-to=10.0.2.2)
let port = Key.boot("port", doc: "The UDP and TCP port to answer on", default: 53, range: 1...65535)
let transferTo = Key.boot("transfer-to", doc: "Addresses (IPv4 or IPv6, comma-separated) that may transfer the zones (AXFR over TCP)",
                          default: "")
let queries = Key.boot("queries", doc: "Stop after answering this many queries (0: never)", default: 0, range: 0...10_000_000)
let logQueries = Key.boot("log-queries", doc: "Print a line per query answered", default: false)

// --zones picks the store the zone files come from (read-only, any of them):
//   crunch: zones/ baked into the image at build time
//   tar:    a ustar archive on a disk: mirage-config kv pack zones -o zones.tar
//   git:    the zone files of a repository's main branch, a git pack on a disk:
//           mirage-config kv pack --git REPO@main -o zones.git (a DNS operator's zones under git)
let zoneStore = Key.configure("zones", doc: "Where the zone files are: crunch (zones/ in the image), tar (an archive on a disk), git (a repository's main branch on a disk)",
                              default: "crunch", choices: ["crunch", "tar", "git"])
let zones = Device.match(zoneStore, cases: [
    "crunch": crunch("zones", name: "zones"),
    "tar": tarStore(on: disk("zonefiles", image: "zones.tar"), name: "zones"),
    "git": gitStore(on: disk("zonefiles", image: "zones.git"), ref: "main", name: "zones"),
])

let main = Job("NameServer", needs: .console, .stack, .kv, keys: [port, transferTo, queries, logQueries])

register("dns", main(defaultConsole, genericStack(), zones))
