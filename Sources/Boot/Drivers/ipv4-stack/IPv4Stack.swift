/// An IPv4 host on one network interface: it answers ARP requests for its
/// address (and announces it once, gratuitously), keeps an ARP cache of
/// what it hears, and answers ICMP echo requests. Everything malformed is
/// counted and dropped. `handle` is pure (frames in, frames out, a time),
/// so the stack is tested on the host with a fake clock; `serve` runs it
/// on the device, asleep in `wfi` between frames.
public final class IPv4Stack<Network: NetworkInterface, C: Clock> {
    public let network: Network
    let clock: C
    public let address: UInt32
    public let prefixLength: Int
    public let gateway: UInt32?
    /// IPv4 address to Ethernet address, with when the entry expires.
    var arpCache: [(address: UInt32, mac: [UInt8], expires: UInt64)] = []
    var identification: UInt16 = 0
    public private(set) var echoRepliesSent = 0
    public private(set) var framesDropped = 0

    static var arpLifetime: UInt64 { 60_000_000_000 }
    static var arpCacheSize: Int { 64 }

    /// `address` as "a.b.c.d/prefix", `gateway` as "a.b.c.d" or "" (none); stops with a message if they do not parse.
    public init(network: Network, clock: C, address: String, gateway: String) {
        self.network = network
        self.clock = clock
        guard let parsed = IPv4Text.prefixed(address) else {
            Runtime.fatal("the boot-time key --ipv4 is not an address/prefix such as 10.0.2.15/24: ", text: address)
        }
        self.address = parsed.address
        prefixLength = parsed.prefixLength
        if gateway.isEmpty {
            self.gateway = nil
        } else if let router = IPv4Text.address(gateway) {
            self.gateway = router
        } else {
            Runtime.fatal("the boot-time key --ipv4-gateway is not an address such as 10.0.2.2: ", text: gateway)
        }
        try? network.transmit(announcement())
    }

    /// A gratuitous ARP request for our own address.
    func announcement() -> [UInt8] {
        let arp = ARPPacket(operation: ARPPacket.request, senderMAC: network.macAddress, senderIP: address,
                            targetMAC: [0, 0, 0, 0, 0, 0], targetIP: address)
        return EthernetFrame.emit(destination: EthernetFrame.broadcast, source: network.macAddress, etherType: EthernetFrame.arp,
                                  payload: arp.emit())
    }

    /// The Ethernet address cached for `ip`, if fresh.
    public func cachedMAC(for ip: UInt32, now: UInt64) -> [UInt8]? {
        arpCache.first { $0.address == ip && $0.expires > now }?.mac
    }

    func learn(_ ip: UInt32, _ mac: [UInt8], now: UInt64) {
        guard ip != 0, mac != EthernetFrame.broadcast else { return }
        arpCache.removeAll { $0.address == ip || $0.expires <= now }
        if arpCache.count >= IPv4Stack.arpCacheSize { arpCache.removeFirst() }
        arpCache.append((ip, mac, now &+ IPv4Stack.arpLifetime))
    }

    /// The frames to send in answer to `frame`, received at `now` (ticks).
    public func handle(_ frame: [UInt8], now: UInt64) -> [[UInt8]] {
        guard let ethernet = EthernetFrame(parsing: frame),
              ethernet.destination == network.macAddress || ethernet.destination == EthernetFrame.broadcast else {
            framesDropped += 1
            return []
        }
        switch ethernet.etherType {
        case EthernetFrame.arp:
            guard let arp = ARPPacket(parsing: ethernet.payload) else { framesDropped += 1; return [] }
            if arp.targetIP == address || cachedMAC(for: arp.senderIP, now: now) != nil { learn(arp.senderIP, arp.senderMAC, now: now) }
            guard arp.operation == ARPPacket.request, arp.targetIP == address, arp.senderIP != address else { return [] }
            let reply = ARPPacket(operation: ARPPacket.reply, senderMAC: network.macAddress, senderIP: address,
                                  targetMAC: arp.senderMAC, targetIP: arp.senderIP)
            return [EthernetFrame.emit(destination: arp.senderMAC, source: network.macAddress, etherType: EthernetFrame.arp,
                                       payload: reply.emit())]
        case EthernetFrame.ipv4:
            guard let ip = IPv4Packet(parsing: ethernet.payload), ip.destination == address else { framesDropped += 1; return [] }
            // Fragments are not reassembled yet: dropped, counted.
            guard !ip.isFragment, ip.protocolNumber == IPv4Packet.icmp,
                  let echo = ICMPEcho(parsing: ip.payload), echo.type == ICMPEcho.request else { framesDropped += 1; return [] }
            let reply = ICMPEcho(type: ICMPEcho.reply, identifier: echo.identifier, sequence: echo.sequence, data: echo.data)
            identification &+= 1
            let packet = IPv4Packet.emit(source: address, destination: ip.source, protocolNumber: IPv4Packet.icmp,
                                         payload: reply.emit(), identification: identification)
            echoRepliesSent += 1
            // Answer the Ethernet address the request came from, as hosts do for on-link peers.
            return [EthernetFrame.emit(destination: ethernet.source, source: network.macAddress, etherType: EthernetFrame.ipv4,
                                       payload: packet)]
        default:
            framesDropped += 1
            return []
        }
    }

    /// Receives and answers frames until `done()` holds or `nanoseconds`
    /// pass; asleep in `wfi` between frames. Returns whether `done()` held.
    @discardableResult
    public func serve(forAtMost nanoseconds: UInt64, until done: () -> Bool = { false }) -> Bool {
        clock.wait(atMost: nanoseconds) {
            while let frame = network.receive() {
                for answer in handle(frame, now: clock.ticks()) { try? network.transmit(answer) }
            }
            return done()
        }
    }
}
