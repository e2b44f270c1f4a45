// What a unikernel sees of its devices, here its console. Drivers conform
// to these protocols; the unikernel's `start` is generic over them, so an
// image carries only the drivers its configuration chose and every call is
// direct. Each device type's protocol is in Sources/Devices/TYPE/Runtime.

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
