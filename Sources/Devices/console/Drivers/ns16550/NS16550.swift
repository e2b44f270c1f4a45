/// 8250/16550-compatible UART with spaced registers (Allwinner A10's
/// "snps,dw-apb-uart": `reg-shift = <2>`, 32-bit accesses).
public final class NS16550: Console {
    let registers: MMIO
    let shift: UInt

    static let transmitHolding: UInt = 0       // THR
    static let lineStatus: UInt = 5            // LSR
    static let transmitHoldingEmpty: UInt32 = 1 << 5

    /// Brings up the UART described by the device-tree node at `path`,
    /// honouring its `reg-shift` property.
    public init(tree: DeviceTree, path: StaticString) {
        registers = MMIO(base: Runtime.registerBase(tree, path))
        shift = UInt(Runtime.cell(tree, path, "reg-shift", default: 0))
    }

    public func write(byte: UInt8) {
        while registers.read(NS16550.lineStatus << shift) & NS16550.transmitHoldingEmpty == 0 { boot_cpu_relax() }
        registers.write(NS16550.transmitHolding << shift, UInt32(byte))
    }
}
