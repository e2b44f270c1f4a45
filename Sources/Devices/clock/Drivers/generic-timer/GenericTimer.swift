/// ARMv7 generic timer (Cortex-A7/A15): the 64-bit physical count CNTPCT at
/// the frequency in CNTFRQ, read through CP15, and the physical timer's
/// compare value as the alarm. CNTP is the secure physical timer when the
/// CPU runs in the secure state (the node's first interrupt) and the
/// non-secure one otherwise (its second): both lines wake the loop.
public final class GenericTimer<Interrupts: InterruptController>: Clock {
    public let frequency: UInt64
    let start: UInt64
    let interrupts: Interrupts
    /// The alarm's deadline while it is armed (its interrupt handler disarms it).
    var armed: UInt64?

    /// `tree`'s `/timer` may give `clock-frequency` when firmware left CNTFRQ unset.
    public init(tree: DeviceTree, path: StaticString, interrupts: Interrupts) {
        let programmed = UInt64(boot_cntfrq())
        frequency = programmed != 0 ? programmed : UInt64(Runtime.cell(tree, path, "clock-frequency", default: 62_500_000))
        start = boot_cntpct()
        self.interrupts = interrupts
        boot_cntp_disarm()
        // The alarm's interrupt only wakes the CPU: the handler turns the alarm off.
        interrupts.enable(interrupts.line(of: tree, path, index: 0)) { self.disarm() }
        interrupts.enable(interrupts.line(of: tree, path, index: 1)) { self.disarm() }
    }

    func disarm() {
        boot_cntp_disarm()
        armed = nil
    }

    public func ticks() -> UInt64 {
        boot_cntpct() &- start
    }

    public func waitForInterrupt(orTicks deadline: UInt64) {
        // An alarm still armed for no later than this one stays (one already
        // due has its interrupt pending): waking early costs a round of the
        // loop, re-arming costs a trip into QEMU at every sleep.
        if armed == nil || armed! > deadline {
            boot_cntp_arm(start &+ deadline)
            armed = deadline
        }
        interrupts.waitForInterrupt()
    }
}

@_extern(c) func boot_cntp_arm(_ compare: UInt64)
@_extern(c) func boot_cntp_disarm()
