// The runtime part of the package: the protocol a job sees, compiled into
// every image that imports the package, whichever driver implements it.

/// What a job sees of a watchdog: it feeds it, and asks whether it expired.
public protocol Watchdog: AnyObject {
    /// The time allowed between feeds, in milliseconds.
    var timeoutMilliseconds: UInt64 { get }
    /// Milliseconds since the last feed (or since boot).
    var millisecondsSinceFeed: UInt64 { get }
    /// Starts the timeout again.
    func feed()
}

extension Watchdog {
    /// Whether the job went longer than the timeout without a feed.
    public var expired: Bool { millisecondsSinceFeed > timeoutMilliseconds }
}
