/// Serves ARP and ICMP echo until three echo requests are answered.
struct Pinged {
    static func start(console: some Console, ipv4: IPv4Stack<some NetworkInterface, some Clock>) -> Int32 {
        let mac = ipv4.network.macAddress.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
        print("ipv4 \(IPv4Text.text(ipv4.address))/\(ipv4.prefixLength) on \(mac)")
        let answered = ipv4.serve(forAtMost: 30_000_000_000) { ipv4.echoRepliesSent >= 3 }
        print("answered \(ipv4.echoRepliesSent) echo requests; dropped \(ipv4.framesDropped) frames")
        return answered ? 0 : 1
    }
}
