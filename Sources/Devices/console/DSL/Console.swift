// The console device type: a text console, a UART on every board here.

extension DeviceType {
    /// A text console: a UART on every board here.
    public static let console = DeviceType("console")
}

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
