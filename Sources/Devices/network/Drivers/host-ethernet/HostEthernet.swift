import Glibc

/// The host target's network interface: Ethernet frames over a Unix
/// datagram socket in QEMU's `-netdev dgram` convention, or a TAP device.
/// The descriptor is non-blocking and watched by the host events: a frame
/// waiting wakes the stack's task, as a NIC's interrupt does. A frame the
/// link cannot take now (the peer's queue is full, or no peer listens) is
/// dropped, as a NIC drops it when its queue is full; TCP sends it again.
public final class HostEthernet: NetworkInterface {
    public let macAddress: MACAddress
    public let events = WaitQueue()
    let descriptor: Int32
    var buffer = [UInt8](repeating: 0, count: 65_536)

    /// `link` names the boot argument that gives the link: `dgram:PATH` or `tap:NAME`.
    public init(tree: DeviceTree, path: StaticString, link: StaticString, events hostEvents: HostEvents) {
        if let bytes = tree.node(at: path)?.property("local-mac-address")?.bytes, bytes.count == 6 {
            macAddress = MACAddress(bytes: bytes)
        } else {
            macAddress = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]   // QEMU's first NIC's
        }
        guard let value = tree.bootArguments.value(for: link) else {
            Runtime.fatal("the host target's network needs a link: run --net dgram:PATH or --net tap:NAME")
        }
        let text = String(decoding: value, as: UTF8.self)
        if text.hasPrefix("dgram:") {
            descriptor = HostEthernet.openDatagram(String(text.dropFirst(6)))
        } else if text.hasPrefix("tap:") {
            descriptor = boot_host_open_tap(String(text.dropFirst(4)))
            if descriptor < 0 { Runtime.fatal("cannot open the TAP interface (it must exist, and /dev/net/tun be usable): ", text: text) }
        } else {
            Runtime.fatal("the host target's link is dgram:PATH or tap:NAME, not ", text: text)
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let queue = events
        hostEvents.watch(descriptor: descriptor) { queue.wakeAll() }
    }

    /// Binds PATH.qemu and sends to PATH, as QEMU's dgram backend does.
    static func openDatagram(_ path: String) -> Int32 {
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0, address(path + ".qemu", { bind(socket, $0, $1) }) == 0,
              address(path, { connect(socket, $0, $1) }) == 0 else {
            Runtime.fatal("cannot bind PATH.qemu and reach PATH (the peer binds it first) for --net dgram:", text: path)
        }
        return socket
    }

    /// Calls `body` with a sockaddr_un for `path`; -1 if it does not fit.
    static func address(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return -1 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    public func transmit(_ frame: [UInt8]) throws(NetworkError) {
        guard frame.count >= 14, frame.count <= buffer.count else { throw .badFrame }
        let sent = frame.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) }
        if sent == frame.count { Counters.framesSent &+= 1 }
    }

    public func receive() -> [UInt8]? {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        guard count >= 14 else { return nil }
        Counters.framesReceived &+= 1
        return Array(buffer[0..<count])
    }
}

/// Sources/Boot/StartHost/host.c: TUNSETIFF, an ioctl Swift cannot call (it is variadic).
@_extern(c) func boot_host_open_tap(_ name: UnsafePointer<CChar>) -> Int32
