import Glibc

/// The host target's console: standard output, byte for byte. C's stdio
/// buffers it a line at a time (the host start code asks for that), and the
/// loop flushes a partial line before it sleeps, so that a prompt is seen.
public final class HostStandardOutput: Console {
    public init(tree: DeviceTree, path: StaticString) {}

    public func write(byte: UInt8) {
        putchar_unlocked(Int32(byte))
    }
}
