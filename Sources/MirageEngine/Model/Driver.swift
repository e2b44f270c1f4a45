import Foundation
import Yams

/// A driver, as it describes itself in `driver.yaml` beside its sources
/// (Sources/Devices/TYPE/Drivers/NAME/, or a device package's Drivers/NAME/). The
/// engine knows drivers only through these files: adding a driver is adding
/// a folder.
public struct Driver: Codable {
    /// What configs and other descriptors call it (`.driver("pl011")`).
    public let name: String
    /// The device type it implements; absent for a library of code that
    /// other drivers `use` (the virtio-mmio transport).
    public let provides: String?
    /// Device-tree `compatible` strings it binds to; absent for a software
    /// driver, which drives no hardware of its own (the entropy pool).
    public let compatible: [String]
    /// The Swift type the glue constructs.
    public let type: String?
    /// Its source files, relative to its folder; every .swift there if absent.
    public let sources: [String]?
    /// Libraries (other descriptors) whose sources it needs.
    public let uses: [String]
    /// qemu arguments that attach the emulated hardware it drives, when qemu
    /// adds it only on request (`-device virtio-rng-device`). `{name}` is the
    /// device's instance name; `{disk}` the disk image `run` attaches;
    /// `{netdev}` the network backend `run` connects (`-netdev`'s value).
    public let qemu: [String]
    /// For the host target's drivers, what `qemu:` is for the boards': the
    /// program's arguments that give it its disk (`{disk}`) or network
    /// (`{netdev}`), with `{name}` for the device's instance name.
    public let process: [String]
    /// What QEMU's model of the hardware needs of a disk image's size.
    public let diskSize: DiskSizeRule
    /// How it uses the block devices it is given: a read-only store never
    /// writes them, so a disk only it uses is never changed on the host
    /// (an image QEMU needs larger is padded as a copy).
    public let diskAccess: DiskAccess
    /// The device parameter naming a folder (relative to config.swift) that
    /// the build packs into the image, found at run time by the device's
    /// name (`MemoryArchive(embedded: "{name}")`).
    public let embeds: String?
    /// The store whose disk image the embedded folder becomes, packed by
    /// that driver's host tool (`embeds-as: kv-tar`).
    public let embedsAs: String?
    /// The glue lines that bring it up; see `GlueTemplate`. A hardware driver
    /// without any gets `let {name} = {type}(tree: tree, path: "{path}")`.
    public let glue: [String]?
    /// Whether `print()` and fault reports go to it: it is brought up before
    /// anything else and named in /chosen/stdout-path.
    public let stdout: Bool
    /// C symbols it defines that other code may need, each with the fix to
    /// give when an image that lacks the driver fails to link for want of it.
    public let symbols: [String: String]
    /// What it reads from its device-tree node; configure refuses a board
    /// whose node lacks it (as Zephyr's bindings mark properties required).
    public let node: NodeRequirements
    /// For a store: the program that reads (and writes) its disk images on
    /// the host, for `mirage-config kv`, and how such an image is recognised.
    public let hostTool: HostTool?
    /// For a library that reads files a store carries: its check of them on
    /// the host, which embedding or packing a folder runs (`file-check:`).
    public let fileCheck: FileCheck?
    /// The folder it was read from.
    public private(set) var folder: URL = URL(fileURLWithPath: "/")

    public var drivesHardware: Bool { !compatible.isEmpty }

    /// Whether it binds to `hardware`: one of the hardware's `compatible` strings is one of its own.
    public func binds(to hardware: Board.Peripheral) -> Bool { hardware.compatible.contains(where: compatible.contains) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, provides, compatible, type, sources, uses, qemu, process, glue, stdout, symbols, node
        case hostTool = "host-tool"
        case fileCheck = "file-check"
        case diskSize = "disk-size"
        case diskAccess = "disk-access"
        case embeds
        case embedsAs = "embeds-as"
    }

    /// The field configuration.json adds to a descriptor's (never in driver.yaml).
    enum StoredKeys: String, CodingKey { case folder }

    public enum DiskSizeRule: String, Codable {
        /// Any whole number of sectors.
        case any
        /// A power of two (QEMU's SD card model refuses other sizes).
        case powerOfTwo = "power-of-two"
    }

    public enum DiskAccess: String, Codable {
        case readWrite = "read-write"
        case readOnly = "read-only"
    }

    /// Whether its qemu arguments attach a disk image.
    public var takesDisk: Bool { (qemu + process).contains { $0.contains("{disk}") } }

    /// Whether its qemu arguments connect a network backend.
    public var takesNetwork: Bool { (qemu + process).contains { $0.contains("{netdev}") } }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        provides = try container.decodeIfPresent(String.self, forKey: .provides)
        compatible = try container.decodeIfPresent([String].self, forKey: .compatible) ?? []
        type = try container.decodeIfPresent(String.self, forKey: .type)
        sources = try container.decodeIfPresent([String].self, forKey: .sources)
        uses = try container.decodeIfPresent([String].self, forKey: .uses) ?? []
        qemu = try container.decodeIfPresent([String].self, forKey: .qemu) ?? []
        process = try container.decodeIfPresent([String].self, forKey: .process) ?? []
        glue = try container.decodeIfPresent([String].self, forKey: .glue)
        stdout = try container.decodeIfPresent(Bool.self, forKey: .stdout) ?? false
        symbols = try container.decodeIfPresent([String: String].self, forKey: .symbols) ?? [:]
        diskSize = try container.decodeIfPresent(DiskSizeRule.self, forKey: .diskSize) ?? .any
        diskAccess = try container.decodeIfPresent(DiskAccess.self, forKey: .diskAccess) ?? .readWrite
        embeds = try container.decodeIfPresent(String.self, forKey: .embeds)
        embedsAs = try container.decodeIfPresent(String.self, forKey: .embedsAs)
        node = try container.decodeIfPresent(NodeRequirements.self, forKey: .node) ?? NodeRequirements()
        hostTool = try container.decodeIfPresent(HostTool.self, forKey: .hostTool)
        fileCheck = try container.decodeIfPresent(FileCheck.self, forKey: .fileCheck)
        if let folder = try decoder.container(keyedBy: StoredKeys.self).decodeIfPresent(URL.self, forKey: .folder) { self.folder = folder }
    }

    /// As configuration.json records it: the descriptor's fields and its folder.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(provides, forKey: .provides)
        try container.encode(compatible, forKey: .compatible)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(sources, forKey: .sources)
        try container.encode(uses, forKey: .uses)
        try container.encode(qemu, forKey: .qemu)
        try container.encode(process, forKey: .process)
        try container.encodeIfPresent(glue, forKey: .glue)
        try container.encode(stdout, forKey: .stdout)
        try container.encode(symbols, forKey: .symbols)
        try container.encode(diskSize, forKey: .diskSize)
        try container.encode(diskAccess, forKey: .diskAccess)
        try container.encodeIfPresent(embeds, forKey: .embeds)
        try container.encodeIfPresent(embedsAs, forKey: .embedsAs)
        try container.encode(node, forKey: .node)
        try container.encodeIfPresent(hostTool, forKey: .hostTool)
        try container.encodeIfPresent(fileCheck, forKey: .fileCheck)
        var stored = encoder.container(keyedBy: StoredKeys.self)
        try stored.encode(folder, forKey: .folder)
    }

    /// A store's host program: `COMMAND ls IMAGE [KEY]`, `get IMAGE KEY`,
    /// `put IMAGE KEY FILE`, a failure said in its last line of standard error.
    public struct HostTool: Codable, Equatable {
        /// The image is this store's when `bytes` stand at one of the offsets `at`.
        public let recognise: Signature
        /// The program and its first arguments: `{python}` is the Python with
        /// littlefs-python (scripts/setup's), `{folder}` the driver's folder,
        /// `{tools}` the installation's tools/.
        public let command: [String]

        public struct Signature: Codable, Equatable {
            public let bytes: String
            public let at: [Int]

            /// Whether `head` (an image's first bytes) carries it.
            public func matches(_ head: Data) -> Bool {
                let magic = Array(bytes.utf8)
                return at.contains { offset in
                    offset >= 0 && offset + magic.count <= head.count
                        && head[head.startIndex + offset ..< head.startIndex + offset + magic.count].elementsEqual(magic)
                }
            }

            /// How many bytes of an image `matches` needs.
            public var reach: Int { (at.max() ?? 0) + bytes.utf8.count }
        }
    }

    /// What a driver reads from its node: `node: {reg: 2, interrupts: 1, properties: [clock-frequency]}`.
    public struct NodeRequirements: Codable, Equatable {
        /// Register windows (an address and a size each) in `reg`.
        public var reg = 0
        /// Interrupt specifiers in `interrupts`, each as long as the board's
        /// interrupt controller's `#interrupt-cells`.
        public var interrupts = 0
        /// Other properties it cannot do without.
        public var properties: [String] = []

        enum CodingKeys: String, CodingKey, CaseIterable { case reg, interrupts, properties }

        init() {}

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            reg = try container.decodeIfPresent(Int.self, forKey: .reg) ?? 0
            interrupts = try container.decodeIfPresent(Int.self, forKey: .interrupts) ?? 0
            properties = try container.decodeIfPresent([String].self, forKey: .properties) ?? []
        }

        /// What `peripheral` on `board` lacks of these, one phrase each.
        public func shortfalls(of peripheral: Board.Peripheral, on board: Board) -> [String] {
            var found: [String] = []
            let regCells = peripheral.reg?.count ?? 0
            if regCells < reg * Board.cellsPerRegisterWindow || regCells % Board.cellsPerRegisterWindow != 0 {
                found.append("reg needs \(reg) window(s) of an address and a size (\(reg * Board.cellsPerRegisterWindow) cells), it has \(regCells) cell(s)")
            }
            let interruptCells = peripheral.interrupts?.count ?? 0
            let perInterrupt = board.interruptCellsPerSpecifier
            if interruptCells < interrupts * perInterrupt || (perInterrupt > 0 && interruptCells % perInterrupt != 0) {
                found.append("interrupts needs \(interrupts) interrupt(s) of \(perInterrupt) cell(s) (#interrupt-cells of \(board.interruptController?.name ?? "the interrupt controller")), it has \(interruptCells) cell(s)")
            }
            for property in properties where peripheral.properties?[property] == nil {
                found.append("the property \(property) is missing")
            }
            return found
        }
    }

    public static let descriptorName = "driver.yaml"

    /// Reads `folder/driver.yaml`, refusing fields it does not know (a typo
    /// would otherwise be silently ignored).
    static func load(from folder: URL) throws -> Driver {
        let file = folder.appendingPathComponent(descriptorName)
        if let mapping = yamlMapping(file) {
            try checkFields(mapping, in: file, allowed: CodingKeys.allCases.map(\.rawValue), place: "")
            if let node = mapping["node"]?.mapping {
                try checkFields(node, in: file, allowed: NodeRequirements.CodingKeys.allCases.map(\.rawValue), place: " in node")
            }
            if let tool = mapping["host-tool"]?.mapping {
                try checkFields(tool, in: file, allowed: ["recognise", "command"], place: " in host-tool")
            }
            if let check = mapping["file-check"]?.mapping {
                try checkFields(check, in: file, allowed: FileCheck.CodingKeys.allCases.map(\.rawValue), place: " in file-check")
            }
        }
        var driver = try decodeYAML(Driver.self, from: file)
        driver.folder = folder
        if driver.provides != nil, driver.type == nil {
            throw MirageError("\(file.path): a driver that provides a device needs `type:`, the Swift type its glue constructs")
        }
        for (field, argument) in driver.qemu.map({ ("qemu", $0) }) + driver.process.map({ ("process", $0) }) {
            let unknown = argument.replacingOccurrences(of: "{name}", with: "").replacingOccurrences(of: "{disk}", with: "")
                .replacingOccurrences(of: "{netdev}", with: "")
            if unknown.contains("{") {
                throw MirageError("\(displayPath(file.path)): \(field) argument '\(argument)' has a placeholder other than {name}, {disk} and {netdev}")
            }
        }
        if !SwiftNames.isIdentifier(driver.name.replacingOccurrences(of: "-", with: "_")) {
            throw MirageError("\(file.path): '\(driver.name)' is not a driver name", fix: "use letters, digits and '-'")
        }
        return driver
    }

    /// The names its sources declare at the top level (types, functions,
    /// constants; C functions): what an image's symbols are traced back to,
    /// to say how many bytes the driver adds.
    public func declaredNames() throws -> Set<String> {
        var names: Set<String> = []
        for file in try sourceFiles() {
            let text = try String(contentsOf: file, encoding: .utf8)
            let pattern = file.pathExtension == "swift" ? Driver.swiftDeclaration : Driver.cDefinition
            for line in text.split(separator: "\n") where !line.hasPrefix(" ") && !line.hasPrefix("\t") {
                let line = String(line)
                if let match = pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                   let name = Range(match.range(at: 1), in: line) {
                    names.insert(String(line[name]))
                }
            }
        }
        return names.subtracting(["if", "while", "for", "switch", "return", "sizeof"])
    }

    /// A top-level Swift declaration, its name captured.
    static let swiftDeclaration = try! NSRegularExpression(
        pattern: #"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|fileprivate|private|final|indirect)\s+)*(?:class|struct|enum|protocol|func|let|var|typealias|actor)\s+([A-Za-z_][A-Za-z0-9_]*)"#)
    /// A C function's definition line (no `;`: not a prototype), its name captured.
    static let cDefinition = try! NSRegularExpression(pattern: #"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;]*$"#)

    /// The Swift (and C) files it compiles, in a fixed order.
    func sourceFiles() throws -> [URL] {
        if let sources {
            return try sources.map { relative in
                let file = folder.appendingPathComponent(relative)
                guard FileManager.default.fileExists(atPath: file.path) else {
                    throw MirageError("\(folder.appendingPathComponent(Driver.descriptorName).path): source '\(relative)' does not exist")
                }
                return file
            }
        }
        return try MirageEngine.sourceFiles(in: folder, withExtensions: ["swift", "c"])
    }
}

/// A device package: a folder anywhere that adds device types and
/// constructors to the DSL (DSL/*.swift, a Swift module config.swift
/// imports), their protocols to the runtime (Runtime/*.swift) and drivers
/// (Drivers/NAME/driver.yaml), with no change to the tool: the shape of each
/// of the tool's own device types in Sources/Devices/TYPE. config.swift names it beside its import:
///
///     import Gadgets // package: ../gadgets
public struct DevicePackage: Codable, Equatable {
    /// The Swift module config.swift imports.
    public let name: String
    /// The package's folder.
    public let root: URL

    public static let descriptorName = "mirage-package.yaml"

    public var dslSources: URL { root.appendingPathComponent("DSL") }
    /// The protocol a job sees of the package's device type, in every image that imports it.
    public var runtimeSources: URL { root.appendingPathComponent("Runtime") }
    public var driversDirectory: URL { root.appendingPathComponent("Drivers") }
    public var librariesDirectory: URL { root.appendingPathComponent("Libraries") }

    struct Descriptor: Decodable {
        let name: String
        let description: String?
    }

    /// Reads `folder/mirage-package.yaml`.
    public static func load(from folder: URL) throws -> DevicePackage {
        let file = folder.appendingPathComponent(descriptorName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw MirageError("\(folder.path) is not a device package: it has no \(descriptorName)",
                              fix: "a device package holds \(descriptorName) (name: MODULE), DSL/*.swift and Drivers/NAME/driver.yaml")
        }
        try checkFields(of: file, allowed: ["name", "description"])
        let descriptor = try decodeYAML(Descriptor.self, from: file)
        guard SwiftNames.isIdentifier(descriptor.name) else {
            throw MirageError("\(file.path): the package name '\(descriptor.name)' is not a Swift module name")
        }
        return DevicePackage(name: descriptor.name, root: folder.standardizedFileURL)
    }
}

/// Every driver an image can use: the tool's own (each device type's
/// Drivers/ and Libraries/ in Sources/Devices/TYPE, and Sources/Boot/Shared) and those of
/// the device packages the configuration imports (their Drivers/ and Libraries/).
public struct DriverCatalog {
    /// By name, in name order.
    public let drivers: [Driver]

    /// The drivers configure chose, as configuration.json records them.
    public init(drivers: [Driver]) {
        self.drivers = drivers.sorted { $0.name < $1.name }
    }

    public init(installation: Installation, packages: [DevicePackage] = []) throws {
        let folders = try installation.driverParentFolders()
            + packages.flatMap { [$0.driversDirectory, $0.librariesDirectory] }
        var found: [String: Driver] = [:]
        for parent in folders where FileManager.default.fileExists(atPath: parent.path) {
            let children = try FileManager.default.contentsOfDirectory(at: parent, includingPropertiesForKeys: nil)
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            for folder in children where FileManager.default.fileExists(atPath: folder.appendingPathComponent(Driver.descriptorName).path) {
                let driver = try Driver.load(from: folder)
                if let other = found[driver.name] {
                    throw MirageError("two drivers are named '\(driver.name)': \(other.folder.path) and \(folder.path)",
                                      fix: "rename one of them in its \(Driver.descriptorName)")
                }
                found[driver.name] = driver
            }
        }
        drivers = found.keys.sorted().map { found[$0]! }
    }

    public func driver(_ name: String) throws -> Driver {
        guard let driver = drivers.first(where: { $0.name == name }) else {
            throw MirageError("no driver '\(name)'", fix: "known drivers: \(drivers.map(\.name).joined(separator: ", "))")
        }
        return driver
    }

    /// The drivers that implement `type` and bind to `hardware`, best match
    /// first: the hardware's `compatible` list runs from most to least specific.
    public func drivers(for hardware: Board.Peripheral, providing type: String) -> [Driver] {
        hardware.compatible.flatMap { compatible in
            drivers.filter { $0.provides == type && $0.compatible.contains(compatible) }
        }
    }

    /// The drivers `names` need, with the libraries they use, each once.
    public func closure(of names: [String]) throws -> [Driver] {
        var result: [Driver] = []
        func add(_ name: String, for user: String?) throws {
            guard !result.contains(where: { $0.name == name }) else { return }
            let driver: Driver
            do { driver = try self.driver(name) } catch let error as MirageError where user != nil {
                throw MirageError("the driver '\(user!)' uses '\(name)', which does not exist", fix: error.fix)
            }
            result.append(driver)
            for library in driver.uses { try add(library, for: driver.name) }
        }
        for name in names { try add(name, for: nil) }
        return result.sorted { $0.name < $1.name }
    }
}

/// Refuses a YAML mapping field that the reader does not know, naming the
/// file, the field and the fields there are (a typo would otherwise be ignored).
func checkFields(of file: URL, allowed: [String]) throws {
    guard let mapping = yamlMapping(file) else { return }   // decodeYAML reports unreadable files
    try checkFields(mapping, in: file, allowed: allowed, place: "")
}

/// The same, for each mapping in the list `list` of the file's top level.
func checkFields(of file: URL, inEachOf list: String, allowed: [String]) throws {
    guard let items = yamlMapping(file)?[list]?.sequence else { return }
    for (index, item) in items.enumerated() {
        guard let mapping = item.mapping else { continue }
        try checkFields(mapping, in: file, allowed: allowed, place: " in \(list)[\(index)]")
    }
}

/// The file's top-level mapping, composed (not constructed: no tag is
/// resolved, so it is cheap); nil when it is not one.
func yamlMapping(_ file: URL) -> Node.Mapping? {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
    return (try? Yams.compose(yaml: text))??.mapping
}

func checkFields(_ mapping: Node.Mapping, in file: URL, allowed: [String], place: String) throws {
    for field in mapping.keys.compactMap(\.string).sorted() where !allowed.contains(field) {
        throw MirageError("\(displayPath(file.path)): unknown field '\(field)'\(place)", fix: "the fields are: \(allowed.joined(separator: ", "))")
    }
}
