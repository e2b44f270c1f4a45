/// Serves ARP and ICMP echo until three echo requests are answered.
struct Pinged {
    static func start(console: some Console, stack: IPStack<some NetworkInterface, some Clock>) -> Int32 {
        let mac = stack.network.macAddress.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
        print("ipv4 \(IPv4Text.text(stack.address))/\(stack.prefixLength) on \(mac)")
        let answered = stack.serve(forAtMost: 30_000_000_000) { stack.echoRepliesSent >= 3 }
        print("answered \(stack.echoRepliesSent) echo requests; dropped \(stack.framesDropped) frames")
        return answered ? 0 : 1
    }
}
