/// Serves ARP and ICMP echo until three echo requests are answered.
struct Pinged {
    static func start(console: some Console, stack: IPStack<some NetworkInterface, some Clock>) -> Int32 {
        let interface = stack.interface
        print("ipv4 \(IPv4Text.text(interface.address))/\(interface.prefixLength) on \(interface.network.macAddress.text)")
        // The stack's own task answers; this one looks every 10 ms for 80 s at most: the peer may
        // take long on a busy machine, and the boot test's 90 s timeout is the limit that counts.
        var waited = 0
        while interface.echoRepliesSent < 3 && waited < 8000 {
            try? Tasks.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        // The third reply is counted once the stack hands it to the device; exiting at once can end
        // QEMU before its device has sent the frame on (CI saw the peer miss it on vexpress-a9), so the
        // stack runs a second more first.
        if interface.echoRepliesSent >= 3 { try? Tasks.sleep(nanoseconds: 1_000_000_000) }
        print("answered \(interface.echoRepliesSent) echo requests; dropped \(interface.framesDropped) frames")
        return interface.echoRepliesSent >= 3 ? 0 : 1
    }
}
