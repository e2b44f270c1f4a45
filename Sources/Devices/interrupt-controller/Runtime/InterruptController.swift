/// An interrupt controller: drivers enable their lines and register a
/// handler; the loop (Tasks/Scheduler.swift) sleeps in `wfi` and the
/// controller dispatches.
///
/// Interrupts are taken synchronously: CPSR.I stays set from reset, so no
/// code ever runs in interrupt context. `wfi` still wakes on a pending IRQ
/// while it is masked (ARMv7-A, and QEMU), and `waitForInterrupt` then runs
/// the handlers of every pending line in the loop, between tasks; a busy
/// loop calls `dispatchPending` between rounds. So handlers need no locks
/// and the FPU state needs no saving, and a waiting unikernel costs its
/// host nothing. A handler only records what happened and wakes the tasks
/// waiting for it (a `WaitQueue`).
public protocol InterruptController: AnyObject {
    /// The controller's line for the device-tree interrupt specifier `cells`
    /// (one entry of a node's `interrupts`), or nil if it does not parse.
    func line(fromSpecifier cells: Slice<DeviceTree.Cells>) -> UInt32?
    /// Cells per specifier (`#interrupt-cells`).
    var cellsPerInterrupt: Int { get }
    /// Starts delivering `line` to `handler`.
    func enable(_ line: UInt32, handler: @escaping () -> Void)
    /// Runs the handlers of the lines pending now, without waiting; returns how many ran.
    @discardableResult
    func dispatchPending() -> Int
    /// Wakes with nothing to dispatch, counted and ignored.
    var spuriousInterrupts: Int { get set }
}

extension InterruptController {
    /// Sleeps until an interrupt is pending, then runs the handlers of the
    /// pending lines; returns how many ran (0 for a spurious wake). Only
    /// the loop's `idle` calls this (through the clock, which arms its alarm first).
    @discardableResult
    public func waitForInterrupt() -> Int {
        boot_wait_for_interrupt()
        let dispatched = dispatchPending()
        if dispatched == 0 { spuriousInterrupts += 1 }
        return dispatched
    }
}

extension InterruptController {
    /// The line of the `index`-th interrupt of the node at `path`, or stops with a message.
    public func line(of tree: DeviceTree, _ path: StaticString, index: Int = 0) -> UInt32 {
        guard let cells = tree.node(at: path)?.property("interrupts")?.cells else {
            Runtime.fatal("device tree has no interrupts in ", path)
        }
        let start = index * cellsPerInterrupt
        guard start + cellsPerInterrupt <= cells.count,
              let line = line(fromSpecifier: cells[start..<(start + cellsPerInterrupt)]) else {
            Runtime.fatal("device tree has no usable interrupt in ", path)
        }
        return line
    }
}

/// The handlers of an interrupt controller, by line, in an array: a
/// Dictionary would need the entropy device to seed its hashing.
struct InterruptHandlers {
    private var entries: [(line: UInt32, run: () -> Void)] = []

    mutating func set(_ line: UInt32, _ handler: @escaping () -> Void) {
        entries.removeAll { $0.line == line }
        entries.append((line, handler))
    }

    /// Runs the handler of `line`; false if it has none.
    func run(_ line: UInt32) -> Bool {
        guard let entry = entries.first(where: { $0.line == line }) else { return false }
        Counters.interrupts &+= 1
        entry.run()
        return true
    }
}

@_extern(c) func boot_wait_for_interrupt()
