// Networks: an interface (virtio-net, the A10 EMAC) and an IP stack on it.

extension DeviceType {
    /// Ethernet frames in and out.
    public static let network = DeviceType("network")
    /// An IP host, IPv4, IPv6 or both, with UDP and TCP over either.
    public static let stack = DeviceType("stack")
}

/// Which families the stack speaks, fixed at configure time (`configure --ip-mode ipv6`).
public let ipMode = Key.configure("ip-mode", doc: "The stack's families: ipv4, ipv6, or dual (both)", default: "dual",
                                  choices: ["ipv4", "ipv6", "dual"])

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

/// IPv6 on the same interface, read at boot: "auto" (a link-local address and SLAAC from
/// router advertisements), "off", or a static address and prefix (with link-local).
public let ipv6Address = Key.boot("ipv6", doc: "IPv6: auto (link-local and SLAAC), off, or an address/prefix such as 2001:db8::5/64",
                                  default: "auto")

/// A default IPv6 router, read at boot ("" for none but those that advertise).
public let ipv6Gateway = Key.boot("ipv6-gateway", doc: "The IPv6 router, such as fe80::1, or empty for those that advertise",
                                  default: "")

/// The name servers the stack's `resolve` asks, read at boot ("" for those
/// the network names: DHCP's option 6, router advertisements' RDNSS; on the
/// host's sockets, /etc/resolv.conf's).
public let nameServersKey = Key.boot("dns", doc: "Name servers to ask, such as 10.0.2.3 or 10.0.2.2:5353,[2001:db8::53]:53; empty: those DHCP and router advertisements name",
                                     default: "")

/// Names with fixed addresses, which `resolve` answers before asking any
/// name server (as /etc/hosts, or curl's --resolve), read at boot.
public let hostsKey = Key.boot("hosts", doc: "Names with fixed addresses, answered before any name server asks: name=address,... such as www.example.test=192.0.2.10",
                               default: "")

/// How an IPv4 host gets its address, written in config.swift; it becomes
/// the default of the boot keys `--ipv4` and `--ipv4-gateway`, which can
/// still change it at boot.
public enum IPv4Setting: Equatable {
    /// Ask a DHCP server for the address, mask and router.
    case dhcp
    /// This address and prefix length, such as "192.168.1.20/24", and a router ("" for none).
    case fixed(String, gateway: String)
}

/// How `genericStack()` reaches the network, as MirageOS's `--net`:
/// `direct`, the unikernel's own IP stack on its network interface (every
/// target); `socket`, the host's own TCP and UDP sockets (the host target
/// only: no privileges, the host's addresses).
public let netStack = Key.configure("net", doc: "direct: the unikernel's own IP stack on its network interface; socket: the host's sockets (host target)",
                                    default: "direct", choices: ["direct", "socket"])

/// The host's own TCP and UDP sockets behind `NetworkStack` (the host
/// target only); `genericStack()` is this under `configure --net socket`.
public func socketStack(random: Device = defaultEntropy, name: String = "stack", file: String = #filePath, line: Int = #line) -> Device {
    Device(.stack, name: name, implementation: .driver("host-sockets"), arguments: [defaultClock, defaultInterruptController, random],
           keys: [nameServersKey.declaration.formatted("name-servers"), hostsKey.declaration.formatted("hosts-table")],
           location: SourceLocation(file: file, line: line))
}

/// An IP host on `network`, IPv4 and IPv6 under one UDP and TCP (as
/// MirageOS's stackv4v6): ARP, IPv4 with fragment reassembly, ICMP and DHCP;
/// IPv6 with neighbour discovery, SLAAC, MLD and ICMPv6. `--ip-mode` chooses
/// the families at configure time (both by default). `address` says how
/// IPv4 gets its address (the keys' defaults, 10.0.2.15/24 through
/// 10.0.2.2, when nil); IPv6 takes the boot keys `--ipv6` (auto: SLAAC)
/// and `--ipv6-gateway`; `resolve` asks the name servers of `--dns`, or
/// those the network names. `random` keys TCP's initial sequence numbers and
/// picks ephemeral ports and the resolver's query IDs and ports.
public func genericStack(network: Device = defaultNetwork, address: IPv4Setting? = nil, random: Device = defaultEntropy,
                         name: String = "stack", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    if network.type != .network {
        Diagnostics.error("genericStack(network:) needs a network, not a \(network.type)", at: location, fix: "pass defaultNetwork")
    }
    if random.type != .entropy {
        Diagnostics.error("genericStack(random:) needs an entropy device, not a \(random.type)", at: location, fix: "pass defaultEntropy")
    }
    var addressKey = ipv4Address.declaration.formatted("ipv4-host-or-dhcp")
    var gatewayKey = ipv4Gateway.declaration.formatted("ipv4-gateway-of:ipv4")
    switch address {
    case nil: break
    case .dhcp:
        addressKey = addressKey.defaulting(to: "dhcp")
        gatewayKey = gatewayKey.defaulting(to: "")
    case .fixed(let prefixed, let gateway):
        if !IPv4Syntax.isPrefixed(prefixed) {
            Diagnostics.error("genericStack(address:) has \(String(reflecting: prefixed)), which is not an IPv4 address and prefix length",
                              at: location, fix: "write it as .fixed(\"192.168.1.20/24\", gateway: \"192.168.1.1\")")
        }
        if !gateway.isEmpty && !IPv4Syntax.isAddress(gateway) {
            Diagnostics.error("genericStack(address:) has the gateway \(String(reflecting: gateway)), which is not an IPv4 address",
                              at: location, fix: "write an address such as \"192.168.1.1\", or \"\" for none")
        }
        addressKey = addressKey.defaulting(to: prefixed)
        gatewayKey = gatewayKey.defaulting(to: gateway)
    }
    let direct = Device(.stack, name: name, implementation: .driver("ip-stack"), arguments: [network, defaultClock, random],
                        keys: [ipMode.declaration, addressKey, gatewayKey, ipv6Address.declaration.formatted("ipv6-setting"),
                               ipv6Gateway.declaration.formatted("ipv6-address-or-empty"), nameServersKey.declaration.formatted("name-servers"),
                               hostsKey.declaration.formatted("hosts-table")],
                        location: location)
    return Device.match(netStack, cases: ["direct": direct, "socket": socketStack(random: random, name: name, file: file, line: line)],
                        file: file, line: line)
}

/// The host-side check of IPv4 text, before it reaches a device tree.
enum IPv4Syntax {
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && Int(part).map { $0 <= 255 } == true
        }
    }

    static func isPrefixed(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), parts[1].count <= 2, parts[1].allSatisfy(\.isNumber) else { return false }
        return isAddress(String(parts[0])) && (0...32).contains(length)
    }
}
