import Foundation
import Yams

/// A board: its memory map, CPU, hardware and the qemu machine that
/// emulates it. One YAML file in targets/ each, with its qemu profile in
/// qemu/: adding a board is adding those files.
public struct Board: Codable {
    public let name: String
    /// Other names for `--target`; `arm` names the default board.
    public let aliases: [String]
    public let description: String
    public let model: String
    public let compatible: [String]
    /// How its programs are built and started.
    public let runsAs: RunsAs
    /// The CPU an image is compiled for (absent for a process board).
    public let cpu: CPU?
    /// The memory map an image is linked for (absent for a process board).
    public let memory: MemoryMap?
    public let peripherals: [Peripheral]
    /// The hardware each device type uses when a config asks for the
    /// board's default (`defaultConsole`, `defaultClock`), like Zephyr's
    /// `chosen` node: device type name to peripheral name.
    public let defaults: [String: String]
    /// The qemu profile (qemu/NAME.yaml) that emulates the board.
    public let qemu: String?
    /// How the board boots from an SD card, if it does.
    public let sdCard: SDCard?

    enum CodingKeys: String, CodingKey {
        case name, aliases, description, model, compatible, cpu, memory, peripherals, defaults, qemu
        case runsAs = "runs-as"
        case sdCard = "sd-card"
    }

    /// `runs-as:` in a board file.
    public enum RunsAs: String, Codable {
        /// An ARM image, cross-compiled for `cpu`, linked for `memory` and
        /// booted by qemu or a boot loader (the default).
        case image
        /// A program for the machine the tool runs on (Linux), built with the
        /// host's Swift and run as a process: `--target host`.
        case process
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        aliases = try container.decodeIfPresent([String].self, forKey: .aliases) ?? []
        description = try container.decode(String.self, forKey: .description)
        model = try container.decode(String.self, forKey: .model)
        compatible = try container.decode([String].self, forKey: .compatible)
        runsAs = try container.decodeIfPresent(RunsAs.self, forKey: .runsAs) ?? .image
        // An image needs both; a process has neither: the host's own.
        if runsAs == .image {
            cpu = try container.decode(CPU.self, forKey: .cpu)
            memory = try container.decode(MemoryMap.self, forKey: .memory)
        } else {
            cpu = nil
            memory = nil
        }
        peripherals = try container.decode([Peripheral].self, forKey: .peripherals)
        defaults = try container.decodeIfPresent([String: String].self, forKey: .defaults) ?? [:]
        qemu = try container.decodeIfPresent(String.self, forKey: .qemu)
        sdCard = try container.decodeIfPresent(SDCard.self, forKey: .sdCard)
    }

    /// Whether it is the host target: a process, not an image.
    public var isProcess: Bool { runsAs == .process }

    /// The CPU and memory map of an image board; for a process board, an
    /// error that says `what` needs an image.
    public func imageLayout(for what: String) throws -> (cpu: CPU, memory: MemoryMap) {
        guard let cpu, let memory else {
            throw MirageError("\(what) is for a board image, and \(name) runs the unikernel as a process", fix: "give a board: --target virt")
        }
        return (cpu, memory)
    }
    /// The boot loader an SD card carries, and where on the card.
    public struct SDCard: Codable {
        /// The U-Boot image with its SPL; `{firmware}` is the folder scripts/setup
        /// unpacks the boards' firmware into (.build/firmware).
        public let uBoot: String
        /// Its byte offset on the card (8 KiB on sunxi: the boot ROM reads it there).
        public let offset: UInt64
        /// The header the board's boot ROM checks before it runs the loader,
        /// checked before a card is made: `egon` (Allwinner's eGON.BT0).
        public let bootHeader: BootHeader?

        enum CodingKeys: String, CodingKey {
            case uBoot = "u-boot"
            case offset
            case bootHeader = "boot-header"
        }

        public enum BootHeader: String, Codable {
            case egon
        }

        /// The U-Boot file, found.
        public func uBootFile(in installation: Installation) throws -> URL {
            let path = uBoot.replacingOccurrences(of: "{firmware}", with: installation.firmwareDirectory.path)
            guard FileManager.default.fileExists(atPath: path) else {
                throw MirageError("the board's U-Boot for SD cards, \(path), is not there", fix: "run scripts/setup (it fetches the boards' firmware)")
            }
            return URL(fileURLWithPath: path)
        }
    }

    public struct CPU: Codable {
        /// `-mcpu` for the compilers and the device tree's cpu compatible.
        public let core: String
        public let fpu: String
        public let floatABI: String

        enum CodingKeys: String, CodingKey {
            case core, fpu
            case floatABI = "float-abi"
        }
    }

    public struct Region: Codable {
        public let base: UInt64
        public let size: UInt64
        public var end: UInt64 { base + size }
    }

    public struct ReservedRegion: Codable {
        public let name: String
        public let base: UInt64
        public let size: UInt64
    }

    public struct MemoryMap: Codable {
        public let ram: Region
        /// Where the image is linked and loaded.
        public let load: UInt64
        public let reserved: [ReservedRegion]
        /// Stack size of each CPU mode.
        public let stacks: [String: UInt64]
        public let heap: UInt64
        /// Size of the uncached region for device rings.
        public let dma: UInt64
        /// Size of the region the tasks' stacks (each with a guard page) come
        /// from, whole MiB; `memory.task-stacks`, 8 MiB when a board does not say.
        public let taskStacks: UInt64?

        enum CodingKeys: String, CodingKey {
            case ram, load, reserved, stacks, heap, dma
            case taskStacks = "task-stacks"
        }

        public static let defaultTaskStacks: UInt64 = 0x0080_0000

        /// The task stacks region's size.
        public var taskStacksSize: UInt64 { taskStacks ?? MemoryMap.defaultTaskStacks }

        public func reserved(_ name: String) -> ReservedRegion? { reserved.first { $0.name == name } }
    }

    /// Hardware on the board, as it appears in the device tree (Linux's and
    /// Zephyr's way): what it is (`compatible`), where (`reg`) and its
    /// interrupts. Which driver runs it is found by matching `compatible`;
    /// the board names no driver.
    public struct Peripheral: Codable {
        public let name: String
        /// Node name with unit address, e.g. `serial@9000000`.
        public let node: String
        /// Most specific first, as in a device tree.
        public let compatible: [String]
        public let reg: [UInt64]?
        public let interrupts: [UInt32]?
        public let properties: [String: PropertyValue]?
        /// qemu arguments for when no driver uses it, such as an isolated
        /// peer for an on-chip network interface that qemu otherwise warns has none.
        public let qemuWhenUnused: [String]?

        enum CodingKeys: String, CodingKey {
            case name, node, compatible, reg, interrupts, properties
            case qemuWhenUnused = "qemu-when-unused"
        }

        public var path: String { "/" + node }

        /// It has the device tree's `interrupt-controller` property.
        public var isInterruptController: Bool { properties?["interrupt-controller"] == .flag }
    }

    /// Loads targets/NAME.yaml (or the board that has NAME as an alias).
    public static func load(_ name: String, from installation: Installation) throws -> Board {
        // A board's own name is its file's: read that one alone; an alias means reading them all.
        let file = installation.targetsDirectory.appendingPathComponent("\(name).yaml")
        if !name.contains("/"), !name.hasPrefix("."), FileManager.default.fileExists(atPath: file.path) {
            let board = try decodeYAML(Board.self, from: file)
            if board.name == name { return board }
        }
        let boards = try all(in: installation)
        if let board = boards.first(where: { $0.name == name || $0.aliases.contains(name) }) { return board }
        let known = boards.map { $0.aliases.isEmpty ? $0.name : "\($0.name) (\($0.aliases.joined(separator: ", ")))" }
        throw MirageError("unknown target '\(name)'",
                          fix: "use one of: \(known.joined(separator: "; ")); or add targets/\(name).yaml")
    }

    /// Every board in targets/, sorted by name.
    public static func all(in installation: Installation) throws -> [Board] {
        let files = try FileManager.default.contentsOfDirectory(at: installation.targetsDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { file in
            let board = try decodeYAML(Board.self, from: file)
            guard board.name + ".yaml" == file.lastPathComponent else {
                throw MirageError("\(displayPath(file.path)) describes the board '\(board.name)'", fix: "name the file \(board.name).yaml, or the board \(file.deletingPathExtension().lastPathComponent)")
            }
            return board
        }
    }

    public func peripheral(named name: String) -> Peripheral? { peripherals.first { $0.name == name } }

    public var interruptController: Peripheral? { peripherals.first { $0.isInterruptController } }

    /// Cells in one interrupt specifier: the interrupt controller's `#interrupt-cells` (1 when it does not say).
    public var interruptCellsPerSpecifier: Int {
        if case .cells(let cells)? = interruptController?.properties?["#interrupt-cells"], let count = cells.first { return Int(count) }
        return 1
    }

    /// Cells in one `reg` window: the device tree's root has `#address-cells` and `#size-cells` of 1.
    public static let cellsPerRegisterWindow = 2

    /// The file it is read from, as messages name it (Board.all checks the name).
    public var file: String { "targets/\(name).yaml" }
}

/// A device-tree property value as a file in targets/ writes it.
public enum PropertyValue: Codable, Equatable {
    case flag                // `true`: an empty property
    case cells([UInt32])
    case string(String)
    case strings([String])
    /// `{bytes: [0x52, 0x54, ...]}`: a byte string, such as `local-mac-address`.
    case bytes([UInt8])

    struct ByteString: Codable { let bytes: [UInt8] }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let byteString = try? container.decode(ByteString.self) {
            self = .bytes(byteString.bytes)
        } else if let flag = try? container.decode(Bool.self), flag {
            self = .flag
        } else if let number = try? container.decode(UInt32.self) {
            self = .cells([number])
        } else if let numbers = try? container.decode([UInt32].self) {
            self = .cells(numbers)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            self = .strings(try container.decode([String].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .flag: try container.encode(true)
        case .cells(let cells): try container.encode(cells)
        case .string(let text): try container.encode(text)
        case .strings(let texts): try container.encode(texts)
        case .bytes(let bytes): try container.encode(ByteString(bytes: bytes))
        }
    }
}

/// Decodes a YAML data file, naming the file in any error.
func decodeYAML<T: Decodable>(_ type: T.Type, from file: URL) throws -> T {
    let text: String
    do { text = try String(contentsOf: file, encoding: .utf8) } catch {
        throw MirageError("cannot read \(file.path): \(error.localizedDescription)")
    }
    do {
        return try YAMLDecoder().decode(type, from: text)
    } catch let DecodingError.keyNotFound(key, context) {
        throw MirageError("\(file.path): missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
        throw MirageError("\(file.path): wrong value at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
    } catch {
        throw MirageError("\(file.path): \(error)")
    }
}
