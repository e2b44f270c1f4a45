import Glibc

/// The host target's network interface: Ethernet frames over a Unix
/// datagram socket in QEMU's `-netdev dgram` convention, or a TAP device.
/// `dgram-peer:PATH` is the other end of such a link (it binds PATH and
/// sends to PATH.qemu), so that a host unikernel and a QEMU one share a
/// wire; it takes QEMU's second NIC's address, 52:54:00:12:34:57, so the
/// two ends differ.
/// The descriptor is non-blocking and watched by the host events: a frame
/// waiting wakes the stack's task, as a NIC's interrupt does. A frame the
/// link cannot take now (the peer's queue is full, or no peer listens) is
/// dropped, as a NIC drops it when its queue is full; TCP sends it again.
public final class HostEthernet: NetworkInterface {
    public let macAddress: MACAddress
    public let events = WaitQueue()
    let descriptor: Int32
    /// Where a datagram link sends (nil for a TAP), made once. Sent to by
    /// name each time, not connected: the other end may bind after this one,
    /// and a frame sent before is dropped, as on a cable not yet plugged in.
    var remote: sockaddr_un?
    var buffer = [UInt8](repeating: 0, count: 65_536)

    /// `link` names the boot argument that gives the link: `dgram:PATH`, `dgram-peer:PATH` or `tap:NAME`.
    public init(tree: DeviceTree, path: StaticString, link: StaticString, events hostEvents: HostEvents) {
        var address: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]   // QEMU's first NIC's
        if let bytes = tree.node(at: path)?.property("local-mac-address")?.bytes, bytes.count == 6 { address = Array(bytes) }
        guard let value = tree.bootArguments.value(for: link) else {
            Runtime.fatal("the host target's network needs a link: run --net dgram:PATH, dgram-peer:PATH or tap:NAME")
        }
        let text = String(decoding: value, as: UTF8.self)
        if text.hasPrefix("dgram:") {
            descriptor = HostEthernet.openDatagram(local: String(text.dropFirst(6)) + ".qemu")
            remote = HostEthernet.socketAddress(String(text.dropFirst(6)))
        } else if text.hasPrefix("dgram-peer:") {
            let path = String(text.dropFirst(11))
            descriptor = HostEthernet.openDatagram(local: path)
            remote = HostEthernet.socketAddress(path + ".qemu")
            address[5] &+= 1
        } else if text.hasPrefix("tap:") {
            descriptor = boot_host_open_tap(String(text.dropFirst(4)))
            if descriptor < 0 { Runtime.fatal("cannot open the TAP interface (it must exist, and /dev/net/tun be usable): ", text: text) }
        } else {
            Runtime.fatal("the host target's link is dgram:PATH, dgram-peer:PATH or tap:NAME, not ", text: text)
        }
        macAddress = MACAddress(bytes: address)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let queue = events
        hostEvents.watch(descriptor: descriptor) { queue.wakeAll() }
    }

    /// A datagram socket bound to `local` (for dgram:PATH, PATH.qemu, as
    /// QEMU's dgram backend binds).
    static func openDatagram(local: String) -> Int32 {
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = socketAddress(local)
        let bound = socket >= 0 && withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
        guard bound else { Runtime.fatal("cannot bind the link's socket ", text: local) }
        return socket
    }

    /// The Unix socket address of `path`; stops when the path is longer than one can hold.
    static func socketAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Runtime.fatal("a Unix socket path is at most 107 bytes: ", text: path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }

    public func transmit(_ frame: [UInt8]) throws(NetworkError) {
        guard frame.count >= 14, frame.count <= buffer.count else { throw .badFrame }
        let sent: Int = frame.withUnsafeBytes { bytes in
            guard var remote else { return write(descriptor, bytes.baseAddress!, bytes.count) }
            return withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress!, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
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
