// The interrupt-controller device type: what wakes the CPU and runs the
// drivers' interrupt handlers.

extension DeviceType {
    /// The interrupt controller that wakes the CPU from `wfi` and runs the
    /// drivers' interrupt handlers (a GIC, the A10's).
    public static let interruptController = DeviceType("interrupt-controller")
}

/// The board's interrupt controller (GICv2 on virt and vexpress-a9, the A10
/// interrupt controller on the Cubieboard), found by its `compatible`.
public let defaultInterruptController = Device(.interruptController, name: "interrupts", implementation: .boardDefault)
