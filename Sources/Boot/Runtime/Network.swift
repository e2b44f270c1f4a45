/// A network interface: Ethernet frames in and out (virtio-net, the A10
/// EMAC). The IPv4 stack sits on it; a job usually talks to the stack.
public protocol NetworkInterface: AnyObject {
    /// Its Ethernet address.
    var macAddress: [UInt8] { get }
    /// Sends one frame (destination, source, type, payload; no FCS), without
    /// waiting for the device: a full transmit queue throws `.timedOut` and
    /// the frame is lost, as on a busy wire.
    func transmit(_ frame: [UInt8]) throws(NetworkError)
    /// The next frame received, if one is waiting.
    func receive() -> [UInt8]?
    /// Woken by the device's interrupt: frames arrived (or a transmit slot freed).
    var events: WaitQueue { get }
}

public enum NetworkError: Error, Equatable {
    /// No device is attached.
    case noDevice
    /// The frame is larger than the device sends, or smaller than a header.
    case badFrame
    /// The device did not take the frame in time, or the peer stopped answering.
    case timedOut
    /// No route to the address, or nobody answered ARP for it.
    case unreachable
    /// The port is taken, or is 0.
    case portInUse
    /// The connection is closed.
    case closed
    /// The peer reset the connection.
    case reset
    /// Nobody listens on that port: the peer answered the SYN with a reset.
    case refused

    public var reason: StaticString {
        switch self {
        case .noDevice: return "no network device"
        case .badFrame: return "frame too large or too small"
        case .timedOut: return "timed out"
        case .unreachable: return "no route, or no ARP answer"
        case .portInUse: return "port in use"
        case .closed: return "connection closed"
        case .reset: return "connection reset by the peer"
        case .refused: return "connection refused"
        }
    }
}
