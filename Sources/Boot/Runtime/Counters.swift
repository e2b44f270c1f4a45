/// What each layer did, for `run --timings`: plain counts each layer bumps
/// on its own path (one core and no preemption, so a bump is one add and
/// needs no atomic), printed when the unikernel ends. What a profile shows
/// as time, these show as work: frames per request, wake-ups per frame.
public enum Counters {
    /// Interrupts the controller dispatched to a handler.
    nonisolated(unsafe) public static var interrupts: UInt64 = 0
    /// Tasks made ready by a wake (a wait queue, a timer, a cancel).
    nonisolated(unsafe) public static var wakeUps: UInt64 = 0
    /// Ethernet frames the network device delivered and sent.
    nonisolated(unsafe) public static var framesReceived: UInt64 = 0
    nonisolated(unsafe) public static var framesSent: UInt64 = 0
    /// Payload bytes copied between the job and the TCP stack's buffers.
    nonisolated(unsafe) public static var bytesCopied: UInt64 = 0
    /// Requests a block device carried out (reads, writes, flushes) and the bytes they moved.
    nonisolated(unsafe) public static var blockRequests: UInt64 = 0
    nonisolated(unsafe) public static var blockBytes: UInt64 = 0
    /// TCP segments sent again.
    nonisolated(unsafe) public static var retransmissions: UInt64 = 0
    /// Queries the stub resolver sent, and the datagrams that came to their
    /// ports but were not their answers (RFC 5452's forgeries among them).
    nonisolated(unsafe) public static var dnsQueries: UInt64 = 0
    nonisolated(unsafe) public static var dnsAnswersIgnored: UInt64 = 0
    /// Blocks the heap handed out (the C heap's own count).
    public static var allocations: UInt64 { boot_heap_allocations() }
}

@_extern(c) func boot_heap_allocations() -> UInt64
