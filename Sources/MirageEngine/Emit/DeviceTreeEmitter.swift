import Foundation

/// The device tree of a configured unikernel: the board (CPU, memory,
/// reserved regions, interrupt controller), the peripherals its devices
/// drive, and /chosen with the console and the boot-time keys.
public struct DeviceTreeEmitter {
    public let board: Board
    public let configuration: ResolvedConfiguration

    static let interruptControllerPhandle: UInt32 = 1

    public init(board: Board, configuration: ResolvedConfiguration) {
        self.board = board
        self.configuration = configuration
    }

    /// The kernel command line: every boot-time key as `--name=value`, quoted as the runtime reads it.
    public var bootArguments: String {
        BootArgumentQuoting.commandLine(configuration.keys.filter { $0.stage == .boot }.map { ($0.name, $0.value) })
    }

    public func tree() -> DeviceTreeNode {
        var root = DeviceTreeNode("", properties: [
            ("#address-cells", .cells([1])),
            ("#size-cells", .cells([1])),
            ("model", .string(board.model)),
            ("compatible", .strings(board.compatible)),
        ])
        if board.interruptController != nil {
            root.properties.append(("interrupt-parent", .cells([DeviceTreeEmitter.interruptControllerPhandle])))
        }
        // A process (the host target) has no CPU or memory of its own to describe.
        if let cpu = board.cpu, let memory = board.memory {
            root.children.append(DeviceTreeNode("cpus", properties: [("#address-cells", .cells([1])), ("#size-cells", .cells([0]))],
                                                children: [DeviceTreeNode("cpu@0", properties: [
                                                    ("device_type", .string("cpu")),
                                                    ("compatible", .string("arm,\(cpu.core)")),
                                                    ("reg", .cells([0])),
                                                ])]))
            let ram = memory.ram
            root.children.append(DeviceTreeNode("memory@\(hex(ram.base))", properties: [
                ("device_type", .string("memory")),
                ("reg", .cells([UInt32(ram.base), UInt32(ram.size)])),
            ]))
            var reserved = DeviceTreeNode("reserved-memory", properties: [
                ("#address-cells", .cells([1])), ("#size-cells", .cells([1])), ("ranges", .flag),
            ])
            for region in memory.reserved {
                reserved.children.append(DeviceTreeNode("\(region.name)@\(hex(region.base))", properties: [
                    ("reg", .cells([UInt32(region.base), UInt32(region.size)])), ("no-map", .flag),
                ]))
            }
            let dma = MemoryLayout(memory: memory).dma
            reserved.children.append(DeviceTreeNode("dma@\(hex(dma.base))", properties: [
                ("compatible", .string("shared-dma-pool")),
                ("reg", .cells([UInt32(dma.base), UInt32(dma.size)])), ("no-map", .flag),
            ]))
            root.children.append(reserved)
        }

        var chosen = DeviceTreeNode("chosen", properties: [("bootargs", .string(bootArguments))])
        if let console = configuration.stdout.flatMap(configuration.device(named:)), let path = console.path {
            chosen.properties.append(("stdout-path", .string(path)))
        }
        root.children.append(chosen)

        var used = Set(configuration.devices.compactMap(\.peripheral))
        if let controller = board.interruptController { used.insert(controller.name) }
        for peripheral in board.peripherals where used.contains(peripheral.name) {
            root.children.append(node(for: peripheral))
        }
        return root
    }

    func node(for peripheral: Board.Peripheral) -> DeviceTreeNode {
        var node = DeviceTreeNode(peripheral.node, properties: [("compatible", .strings(peripheral.compatible))])
        if let reg = peripheral.reg { node.properties.append(("reg", .cells(reg.map { UInt32(truncatingIfNeeded: $0) }))) }
        if let interrupts = peripheral.interrupts { node.properties.append(("interrupts", .cells(interrupts))) }
        for (name, value) in (peripheral.properties ?? [:]).sorted(by: { $0.key < $1.key }) {
            node.properties.append((name, value))
        }
        if peripheral.isInterruptController {
            node.properties.append(("phandle", .cells([DeviceTreeEmitter.interruptControllerPhandle])))
        }
        return node
    }

    func hex(_ value: UInt64) -> String { String(value, radix: 16) }
}
