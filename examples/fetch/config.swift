import MirageConfig

// A client that finds its peers by name: resolves --names with the stack's
// stub resolver (asking the name servers DHCP and router advertisements
// name, or --dns's) and GETs each of --urls with the small HTTP/1.1 client
// (redirects, chunked bodies), connecting by URL: the name's addresses
// raced as Happy Eyeballs v2 says. Try it under QEMU's user network, whose
// 10.0.2.3 forwards to the host's resolver:
//   mirage-config run -- --ipv4=dhcp --names=example.org --urls=http://example.org/
let names = Key.boot("names", doc: "Host names to resolve and print, comma-separated", default: "")
let urls = Key.boot("urls", doc: "http:// URLs to GET, comma-separated", default: "")
let timeout = Key.boot("timeout", doc: "Seconds each lookup and each GET may take", default: 10, range: 1...600)
let settle = Key.boot("settle", doc: "Seconds to wait for a global IPv6 address (SLAAC) and a name server before the first lookup",
                      default: 0, range: 0...60)

let main = Job("Fetch", needs: .console, .stack, keys: [names, urls, timeout, settle])

register("fetch", main(defaultConsole, genericStack()))
