// The clock device type: a monotonic clock with sleep, from the board's timer.

extension DeviceType {
    /// A monotonic clock with sleep, from the board's timer.
    public static let clock = DeviceType("clock")
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
