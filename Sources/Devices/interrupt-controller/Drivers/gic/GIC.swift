/// ARM GICv2 (and the A9 MPCore GIC): distributor and CPU interface at the
/// node's two register windows. Lines are interrupt IDs: SGIs 0-15, PPIs
/// 16-31, SPIs from 32; a device-tree specifier is <type number flags> with
/// type 0 for an SPI and 1 for a PPI.
public final class GIC: InterruptController {
    let distributor: MMIO
    let cpuInterface: MMIO
    var handlers = InterruptHandlers()
    public var spuriousInterrupts = 0
    public let cellsPerInterrupt = 3

    enum Distributor {
        static let control: UInt = 0x000, setEnable: UInt = 0x100, clearEnable: UInt = 0x180
        static let priority: UInt = 0x400, targets: UInt = 0x800
    }
    enum CPUInterface {
        static let control: UInt = 0x00, priorityMask: UInt = 0x04, acknowledge: UInt = 0x0C, endOfInterrupt: UInt = 0x10
    }
    static let spurious: UInt32 = 1023

    public init(tree: DeviceTree, path: StaticString) {
        guard let node = tree.node(at: path), let distributorWindow = node.register(index: 0),
              let cpuWindow = node.register(index: 1) else {
            Runtime.fatal("device tree has no distributor and CPU interface registers in ", path)
        }
        distributor = MMIO(base: UInt(truncatingIfNeeded: distributorWindow.address))
        cpuInterface = MMIO(base: UInt(truncatingIfNeeded: cpuWindow.address))
        distributor.write(Distributor.control, 0)
        for word in 0..<32 as Range<UInt> { distributor.write(Distributor.clearEnable + 4 * word, 0xFFFF_FFFF) }
        distributor.write(Distributor.control, 1)
        cpuInterface.write(CPUInterface.priorityMask, 0xFF)
        cpuInterface.write(CPUInterface.control, 1)
    }

    public func line(fromSpecifier cells: Slice<DeviceTree.Cells>) -> UInt32? {
        guard cells.count == 3 else { return nil }
        switch cells[cells.startIndex] {
        case 0: return cells[cells.startIndex + 1] < 988 ? 32 + cells[cells.startIndex + 1] : nil
        case 1: return cells[cells.startIndex + 1] < 16 ? 16 + cells[cells.startIndex + 1] : nil
        default: return nil
        }
    }

    public func enable(_ line: UInt32, handler: @escaping () -> Void) {
        handlers.set(line, handler)
        let byte = UInt(line)
        // Priority and target are byte registers: set this line's byte of the word.
        let word = byte & ~3, shift = UInt32(8 * (byte & 3))
        let priority = distributor.read(Distributor.priority + word) & ~(0xFF << shift) | (0xA0 << shift)
        distributor.write(Distributor.priority + word, priority)
        if line >= 32 {
            let targets = distributor.read(Distributor.targets + word) & ~(0xFF << shift) | (0x01 << shift)
            distributor.write(Distributor.targets + word, targets)
        }
        distributor.write(Distributor.setEnable + 4 * (byte / 32), 1 << UInt32(byte % 32))
    }

    @discardableResult
    public func dispatchPending() -> Int {
        var dispatched = 0
        while true {
            let acknowledged = cpuInterface.read(CPUInterface.acknowledge)
            let line = acknowledged & 0x3FF
            if line == GIC.spurious { break }
            if !handlers.run(line) { spuriousInterrupts += 1 }
            cpuInterface.write(CPUInterface.endOfInterrupt, acknowledged)
            dispatched += 1
        }
        return dispatched
    }
}
