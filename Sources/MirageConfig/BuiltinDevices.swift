// The device types and ready-made devices every board can offer. A new kind
// of device adds a file like this one; mirage-config reads the declarations
// themselves (`list devices`, and what fits in an error), so nothing else
// lists them.

extension DeviceType {
    /// A text console: a UART on every board here.
    public static let console = DeviceType("console")
    /// A monotonic clock with sleep, from the board's timer.
    public static let clock = DeviceType("clock")
    /// The interrupt controller that wakes the CPU from `wfi` and runs the
    /// drivers' interrupt handlers (a GIC, the A10's).
    public static let interruptController = DeviceType("interrupt-controller")
}

/// The board's interrupt controller (GICv2 on virt and vexpress-a9, the A10
/// interrupt controller on the Cubieboard), found by its `compatible`.
public let defaultInterruptController = Device(.interruptController, name: "interrupts", implementation: .boardDefault)

/// The board's default console (PL011 on virt and vexpress-a9, the A10's
/// 8250 UART0 on the Cubieboard).
public let defaultConsole = Device(.console, name: "console", implementation: .boardDefault)

/// A PL011 UART console; the board must have one.
public func pl011Console(name: String = "console", file: String = #filePath, line: Int = #line) -> Device {
    Device(.console, name: name, implementation: .driver("pl011"), location: SourceLocation(file: file, line: line))
}

/// An 8250/16550-compatible UART console; the board must have one.
public func ns16550Console(name: String = "console", file: String = #filePath, line: Int = #line) -> Device {
    Device(.console, name: name, implementation: .driver("ns16550"), location: SourceLocation(file: file, line: line))
}

/// The board's default clock (ARM generic timer on virt, SP804 on
/// vexpress-a9, the A10 timer on the Cubieboard).
/// It sleeps in `wfi` until its alarm interrupt.
public let defaultClock = Device(.clock, name: "clock", implementation: .boardDefault, arguments: [defaultInterruptController])

/// The ARMv7 generic timer (Cortex-A7/A15 only).
public func genericTimer(name: String = "clock", file: String = #filePath, line: Int = #line) -> Device {
    Device(.clock, name: name, implementation: .driver("generic-timer"), arguments: [defaultInterruptController],
           location: SourceLocation(file: file, line: line))
}

/// An ARM SP804 dual timer.
public func sp804Timer(name: String = "clock", file: String = #filePath, line: Int = #line) -> Device {
    Device(.clock, name: name, implementation: .driver("sp804"), arguments: [defaultInterruptController],
           location: SourceLocation(file: file, line: line))
}

/// The Allwinner A10 timer block.
public func sunxiTimer(name: String = "clock", file: String = #filePath, line: Int = #line) -> Device {
    Device(.clock, name: name, implementation: .driver("sunxi-timer"), arguments: [defaultInterruptController],
           location: SourceLocation(file: file, line: line))
}
