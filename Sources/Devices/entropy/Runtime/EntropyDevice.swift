// What a unikernel sees of randomness: the entropy device and its sources.

/// Random numbers: the entropy device.
///
/// Contract (Libraries/entropy-pool): the glue gathers from every source and calls `finishSeeding()`
/// before the job starts. Under `entropy-policy=strict` (the default) the job
/// never starts unless the sources claimed at least 256 bits, so nothing the
/// job calls ever waits or returns predictable bytes. Under `warn` it starts
/// anyway, after a warning. Asking for random bytes before seeding (from a
/// driver's init, say) stops the unikernel with a message.
public protocol EntropyDevice: AnyObject {
    /// Fills `buffer` with random bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
    /// `count` random bytes.
    func bytes(_ count: Int) -> [UInt8]
    /// A uniformly random integer in 0..<bound.
    func integer(below bound: UInt64) -> UInt64
    /// What each source contributed at boot.
    var contributions: [EntropyContribution] { get }
}

/// What one source gave.
public struct EntropyContribution {
    public let source: String
    public let bytes: Int
    public let claimedBits: Int
    /// Why it gave nothing or was not credited, if so.
    public let note: String?
}

/// Something that produces unpredictable bytes.
public protocol EntropySource: AnyObject {
    var name: StaticString { get }
    /// Whether it can deliver again later (for reseeding).
    var canRepeat: Bool { get }
    /// Fresh bytes and the entropy, in bits, they are claimed to hold.
    func collect() -> (bytes: [UInt8], claimedBits: Int, note: StaticString?)
}
