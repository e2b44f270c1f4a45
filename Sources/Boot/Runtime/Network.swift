/// A network interface: Ethernet frames in and out (virtio-net, the A10
/// EMAC). The IPv4 stack sits on it; a job usually talks to the stack.
public protocol NetworkInterface: AnyObject {
    /// Its Ethernet address.
    var macAddress: [UInt8] { get }
    /// Sends one frame (destination, source, type, payload; no FCS).
    func transmit(_ frame: [UInt8]) throws(NetworkError)
    /// The next frame received, if one is waiting. Its interrupt wakes a
    /// `Clock` wait when one arrives.
    func receive() -> [UInt8]?
}

public enum NetworkError: Error, Equatable {
    /// No device is attached.
    case noDevice
    /// The frame is larger than the device sends, or smaller than a header.
    case badFrame
    /// The device did not take the frame in time.
    case timedOut

    public var reason: StaticString {
        switch self {
        case .noDevice: return "no network device"
        case .badFrame: return "frame too large or too small"
        case .timedOut: return "the device did not send in time"
        }
    }
}
