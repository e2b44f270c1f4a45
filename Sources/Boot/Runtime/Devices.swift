/// What a unikernel sees of its devices. Drivers conform to these; the
/// unikernel's `start` is generic over them, so an image carries only the
/// drivers its configuration chose and every call is direct.

/// A byte-oriented console: a UART on every board here.
public protocol Console: AnyObject {
    /// Sends one byte, waiting while the transmitter is full.
    func write(byte: UInt8)
}

/// Lines end in `\n`, as the job wrote them (a terminal program adds
/// carriage returns if it wants them).
extension Console {
    /// Writes a literal with its interpolations, byte for byte.
    public func write(_ message: ConsoleMessage) {
        for byte in message.bytes { write(byte: byte) }
    }

    /// Writes `text` as UTF-8, byte for byte. (A literal goes to the
    /// ConsoleMessage overload, as SwiftUI's `Text` prefers its key type.)
    @_disfavoredOverload
    public func write<Text: StringProtocol>(_ text: Text) {
        for byte in text.utf8 { write(byte: byte) }
    }

    /// Writes `message` and a line break.
    public func log(_ message: ConsoleMessage) {
        write(message)
        write(byte: UInt8(ascii: "\n"))
    }

    /// Writes `line` and a line break.
    @_disfavoredOverload
    public func log<Text: StringProtocol>(_ line: Text) {
        write(line)
        write(byte: UInt8(ascii: "\n"))
    }
}

/// A monotonic clock with a sleep, from the board's timer. A driver gives
/// its tick count and rate, and an alarm that wakes the CPU; nanoseconds
/// and sleeping are derived here. The loop keeps its deadlines in the
/// ticks of the clock the glue attached (`Tasks.attach(clock:)`).
public protocol Clock: AnyObject {
    /// Ticks per second.
    var frequency: UInt64 { get }
    /// Ticks since the clock was started; never goes backwards.
    func ticks() -> UInt64
    /// Sleeps in `wfi` until `ticks()` reaches `deadline` (an alarm
    /// interrupt) or another interrupt arrives, whose handler then runs.
    /// Only the loop calls it, when no task is ready: a task that waits
    /// parks (`Tasks.sleep`, `WaitQueue`) and lets the others run.
    func waitForInterrupt(orTicks deadline: UInt64)
}

extension Clock {
    /// Nanoseconds since the clock was started; never goes backwards.
    public func now() -> UInt64 { ticksToNanoseconds(ticks(), frequency: frequency) }

    /// Nanoseconds per tick.
    public var resolution: UInt64 { max(1, 1_000_000_000 / frequency) }

    /// `nanoseconds` in ticks, rounded up.
    public func ticks(forNanoseconds nanoseconds: UInt64) -> UInt64 {
        let whole = nanoseconds / 1_000_000_000 * frequency
        return whole + (nanoseconds % 1_000_000_000 * frequency + 999_999_999) / 1_000_000_000
    }

    /// Waits at least `nanoseconds`: the task parks and the others run (the
    /// CPU sleeps if none is ready). Returns early if the task is cancelled.
    public func sleep(nanoseconds: UInt64) {
        try? Tasks.sleep(nanoseconds: nanoseconds)
    }

    /// Waits at least `milliseconds`.
    public func sleep(milliseconds: UInt64) { sleep(nanoseconds: milliseconds * 1_000_000) }
}

/// Random numbers: the entropy device.
///
/// Contract (Drivers/entropy-pool): the glue gathers from every source and calls `finishSeeding()`
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
