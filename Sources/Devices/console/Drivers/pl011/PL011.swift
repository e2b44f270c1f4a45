/// ARM PrimeCell PL011 UART (QEMU virt, vexpress). Firmware or qemu has set
/// the baud rate; the driver enables the transmitter and polls the FIFO.
public final class PL011: Console {
    let registers: MMIO

    enum Register {
        static let data: UInt = 0x00
        static let flags: UInt = 0x18
        static let control: UInt = 0x30
    }
    static let transmitFIFOFull: UInt32 = 1 << 5
    static let enableUARTAndTransmit: UInt32 = 1 << 0 | 1 << 8 | 1 << 9

    /// Brings up the UART described by the device-tree node at `path`.
    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        registers.write(Register.control, registers.read(Register.control) | PL011.enableUARTAndTransmit)
    }

    public func write(byte: UInt8) {
        while registers.read(Register.flags) & PL011.transmitFIFOFull != 0 { boot_cpu_relax() }
        registers.write(Register.data, UInt32(byte))
    }
}
