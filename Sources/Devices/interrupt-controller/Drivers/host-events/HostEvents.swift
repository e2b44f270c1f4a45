import Glibc

/// The host target's interrupt controller: a line is a file descriptor, and
/// a pending interrupt is a descriptor that `ppoll` says is readable. The
/// host clock sleeps here (`wait(nanoseconds:)`), so that an idle host
/// unikernel uses no CPU, as `wfi` does on a board; handlers run in the
/// loop, between tasks, as the board drivers' do.
public final class HostEvents: InterruptController {
    var watched: [(descriptor: Int32, events: Int16, handler: () -> Void)] = []
    public var spuriousInterrupts = 0
    public var cellsPerInterrupt: Int { 1 }

    public init(tree: DeviceTree, path: StaticString) {}

    /// A specifier is the descriptor itself.
    public func line(fromSpecifier cells: Slice<DeviceTree.Cells>) -> UInt32? { cells.first }

    /// Runs `handler` in the loop whenever the descriptor `line` is readable.
    public func enable(_ line: UInt32, handler: @escaping () -> Void) {
        watch(descriptor: Int32(bitPattern: line), handler)
    }

    /// Runs `handler` in the loop whenever `descriptor` is readable (or,
    /// with `writable`, can take more), until `unwatch`.
    public func watch(descriptor: Int32, writable: Bool = false, _ handler: @escaping () -> Void) {
        watched.removeAll { $0.descriptor == descriptor }
        watched.append((descriptor, Int16(writable ? POLLOUT : POLLIN), handler))
    }

    public func unwatch(descriptor: Int32) {
        watched.removeAll { $0.descriptor == descriptor }
    }

    @discardableResult
    public func dispatchPending() -> Int { poll(timeout: 0) }

    /// Sleeps until a watched descriptor is readable or `nanoseconds` pass,
    /// then runs the handlers of the readable ones; returns how many ran.
    @discardableResult
    public func wait(nanoseconds: UInt64) -> Int {
        fflush(stdout)
        return poll(timeout: nanoseconds)
    }

    /// ppoll with `timeout` nanoseconds (0: do not wait); an interrupted call
    /// (a signal) counts as a wake with nothing ready.
    func poll(timeout: UInt64) -> Int {
        // The handlers as they were when polled: one may watch another descriptor.
        let entries = watched
        var descriptors = entries.map { pollfd(fd: $0.descriptor, events: $0.events, revents: 0) }
        let ready = descriptors.withUnsafeMutableBufferPointer { buffer in
            boot_host_poll(buffer.baseAddress, UInt(buffer.count), min(timeout, 1 << 40))
        }
        guard ready > 0 else { return 0 }
        var ran = 0
        for (index, entry) in descriptors.enumerated() where entry.revents != 0 {
            Counters.interrupts &+= 1
            entries[index].handler()
            ran += 1
        }
        return ran
    }
}

/// Sources/Boot/StartHost/host.c: ppoll, which Glibc's Swift module does not show.
@_extern(c) func boot_host_poll(_ descriptors: UnsafeMutablePointer<pollfd>?, _ count: UInt, _ nanoseconds: UInt64) -> Int32
