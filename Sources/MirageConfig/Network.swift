// Networks: an interface (virtio-net, the A10 EMAC) and an IPv4 host on it.

extension DeviceType {
    /// Ethernet frames in and out.
    public static let network = DeviceType("network")
    /// An IPv4 host: ARP and ICMP echo on a network.
    public static let ipv4 = DeviceType("ipv4")
}

/// The board's network interface: virtio-net on a virtio-mmio transport
/// (virt, vexpress-a9). `run` connects it to QEMU's user network, or to
/// `run --net dgram:PATH` or `run --net tap:NAME`.
public let defaultNetwork = Device(.network, name: "net", implementation: .boardDefault,
                                   arguments: [defaultClock, defaultInterruptController])

/// The host's address and prefix on the network, read at boot.
public let ipv4Address = Key.boot("ipv4", doc: "This host's IPv4 address and prefix length, such as 10.0.2.15/24, or dhcp",
                                  default: "10.0.2.15/24")

/// The router off the local network, read at boot ("" for none).
public let ipv4Gateway = Key.boot("ipv4-gateway", doc: "The IPv4 router, such as 10.0.2.2, or empty for none", default: "10.0.2.2")

/// An IPv4 host on `network` with a static address (`--ipv4`, `--ipv4-gateway`)
/// or DHCP (`--ipv4 dhcp`). `random` keys its TCP initial sequence numbers
/// and picks its ephemeral ports.
public func ipv4Stack(network: Device = defaultNetwork, random: Device = defaultEntropy, name: String = "ipv4",
                      file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    if network.type != .network {
        Diagnostics.error("ipv4Stack(network:) needs a network, not a \(network.type)", at: location, fix: "pass defaultNetwork")
    }
    if random.type != .entropy {
        Diagnostics.error("ipv4Stack(random:) needs an entropy device, not a \(random.type)", at: location, fix: "pass defaultEntropy")
    }
    return Device(.ipv4, name: name, implementation: .driver("ipv4-stack"), arguments: [network, defaultClock, random],
                  keys: [ipv4Address.declaration, ipv4Gateway.declaration], location: location)
}
