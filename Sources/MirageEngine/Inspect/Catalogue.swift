import Foundation

/// What exists: every board, device type and driver, as `mirage-config list`
/// shows them (MirageOS's TROVE list, Zephyr's board and binding pages,
/// functoria's `describe`). Read from the same files the engine resolves a
/// configuration with (targets/, the drivers' descriptors, the DSL's
/// declarations), so the catalogue cannot drift from what configure does.
public struct Catalogue: Encodable {
    public let boards: [BoardEntry]
    public let devices: [DeviceEntry]
    public let drivers: [DriverEntry]

    public struct BoardEntry: Encodable {
        public let name: String
        public let aliases: [String]
        public let description: String
        public let model: String
        /// Absent for the host target, a process.
        public let cpu: String?
        public let fpu: String?
        public let ramBase: UInt64?
        public let ramBytes: UInt64?
        /// The qemu profile that emulates it, if any.
        public let qemu: String?
        public let bootsFromSDCard: Bool
        public let hardware: [Hardware]
    }

    /// A peripheral and what binds to it.
    public struct Hardware: Encodable {
        public let name: String
        public let node: String
        public let compatible: [String]
        /// The drivers that bind to it, each with the device type it provides.
        public let drivers: [Binding]
        /// The device types whose board default it is.
        public let defaultFor: [String]
    }

    public struct Binding: Encodable {
        public let driver: String
        public let provides: String
    }

    public struct DeviceEntry: Encodable {
        public let type: String
        public let swiftName: String
        public let doc: String
        public let standsInFor: [String]
        public let module: String
        public let constructors: [DSLDeclarations.Constructor]
        /// Drivers that provide it.
        public let drivers: [String]
        /// The keys its constructors' devices declare.
        public let keys: [DSLDeclarations.KeyDeclaration]
    }

    public struct DriverEntry: Encodable {
        public let name: String
        /// `hardware`, `software` (provides a device from no hardware of its
        /// own) or `library` (code that other drivers use).
        public let kind: String
        public let provides: String?
        public let compatible: [String]
        /// The boards that have hardware it binds to.
        public let boards: [String]
        public let uses: [String]
        /// What its descriptor's opening comment says.
        public let summary: String
        /// Lines of Swift and C in its folder: what it adds to an image's sources.
        public let sourceLines: Int
        /// The bytes of code and data it adds to the unikernel's last image
        /// (`list drivers` in a built unikernel's folder), if it is in it.
        public let imageBytes: UInt64?
        /// Its folder, relative to the installation (or absolute, for a package's).
        public let folder: String
    }

    /// The catalogue of the tool's own boards, drivers and DSL, with
    /// `packages` added, and what each driver takes in `image` if given.
    public static func read(installation: Installation, packages: [DevicePackage] = [], image: BuiltImage? = nil) throws -> Catalogue {
        let imageBytes = try image.map { try $0.bytesByDriver() } ?? [:]
        let boards = try Board.all(in: installation)
        let drivers = try DriverCatalog(installation: installation, packages: packages)
        let declarations = try DSLDeclarations.read(installation: installation, packages: packages)
        return Catalogue(
            boards: boards.map { board in
                BoardEntry(name: board.name, aliases: board.aliases, description: board.description, model: board.model,
                           cpu: board.cpu?.core, fpu: board.cpu?.fpu, ramBase: board.memory?.ram.base, ramBytes: board.memory?.ram.size,
                           qemu: board.qemu, bootsFromSDCard: board.sdCard != nil,
                           hardware: board.peripherals.map { peripheral in
                               Hardware(name: peripheral.name, node: peripheral.node, compatible: peripheral.compatible,
                                        drivers: drivers.drivers.filter { driver in
                                            driver.provides != nil && driver.binds(to: peripheral)
                                        }.map { Binding(driver: $0.name, provides: $0.provides!) },
                                        defaultFor: board.defaults.keys.sorted().filter { board.defaults[$0] == peripheral.name })
                           })
            },
            devices: declarations.types.map { type in
                let constructors = declarations.constructors.filter { $0.type == type.name }
                let keyNames = constructors.flatMap(\.keys)
                return DeviceEntry(type: type.name, swiftName: type.swiftName, doc: type.doc, standsInFor: type.standsInFor,
                                   module: type.module, constructors: constructors,
                                   drivers: drivers.drivers.filter { $0.provides == type.name }.map(\.name),
                                   keys: declarations.keys.filter { keyNames.contains($0.name) })
            },
            drivers: try drivers.drivers.map { driver in
                DriverEntry(name: driver.name,
                            kind: driver.drivesHardware ? "hardware" : driver.provides == nil ? "library" : "software",
                            provides: driver.provides, compatible: driver.compatible,
                            boards: boards.filter { board in
                                board.peripherals.contains(where: driver.binds(to:))
                            }.map(\.name),
                            uses: driver.uses, summary: try driver.summary(),
                            sourceLines: try driver.sourceFiles().reduce(0) { $0 + (try lineCount(of: $1)) },
                            imageBytes: imageBytes[driver.name],
                            folder: driver.folder.path.hasPrefix(installation.root.path + "/")
                                ? String(driver.folder.path.dropFirst(installation.root.path.count + 1)) : driver.folder.path)
            })
    }

    /// A unikernel's last image and the configuration it was built from.
    public struct BuiltImage {
        public let elf: URL
        public let configuration: ResolvedConfiguration

        public init(elf: URL, configuration: ResolvedConfiguration) {
            self.elf = elf
            self.configuration = configuration
        }

        /// Bytes of code and data per driver, traced from the image's symbols.
        func bytesByDriver() throws -> [String: UInt64] {
            try SizeByPart(symbols: try ElfImage.sizedSymbols(of: elf), job: configuration.job, drivers: configuration.drivers).bytesByDriver
        }
    }

    // MARK: Text

    public var boardsText: String {
        boards.map { board in
            var text = board.name + (board.aliases.isEmpty ? "" : " (\(board.aliases.joined(separator: ", ")))") + ": \(board.description)\n"
            text += "  device-tree model \(board.model)\n"
            if let cpu = board.cpu, let fpu = board.fpu, let ramBytes = board.ramBytes, let ramBase = board.ramBase {
                text += "  CPU \(cpu) (\(fpu)); RAM \(mebibytes(ramBytes)) at \(hex(ramBase))"
            } else {
                text += "  this machine's CPU and memory, as a process"
            }
            text += "; qemu: \(board.qemu ?? "none")" + (board.bootsFromSDCard ? "; boots from an SD card" : "") + "\n"
            let width = board.hardware.map(\.name.count).max() ?? 0
            for hardware in board.hardware {
                let bound = hardware.drivers.isEmpty ? "no driver" : hardware.drivers.map { "\($0.driver) (\($0.provides))" }.joined(separator: ", ")
                let chosen = hardware.defaultFor.isEmpty ? "" : "; default \(hardware.defaultFor.joined(separator: ", "))"
                text += "  " + hardware.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                    + "\(hardware.node) [\(hardware.compatible.joined(separator: ", "))]: \(bound)\(chosen)\n"
            }
            return text
        }.joined(separator: "\n")
    }

    public var devicesText: String {
        devices.map { device in
            var text = "\(device.type) (\(device.swiftName)\(device.module == "MirageConfig" ? "" : ", from \(device.module)"))"
            if !device.standsInFor.isEmpty { text += ", fits where \(device.standsInFor.joined(separator: ", ")) is needed" }
            text += "\n  \(device.doc)\n"
            for constructor in device.constructors {
                text += "  \(constructor.name)\n      \(constructor.doc)\n"
            }
            text += "  drivers: \(device.drivers.isEmpty ? "none" : device.drivers.joined(separator: ", "))\n"
            for key in device.keys {
                text += "  --\(key.name) (\(key.stage)): \(key.doc)\n"
            }
            return text
        }.joined(separator: "\n")
    }

    public var driversText: String {
        let width = drivers.map(\.name.count).max() ?? 0
        return drivers.map { driver in
            var text = driver.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
            text += driver.provides.map { "provides \($0), " } ?? ""
            text += "\(driver.kind), \(driver.sourceLines) lines"
            text += driver.imageBytes.map { ", \($0) B in the image" } ?? ""
            text += ", \(driver.folder)\n"
            if !driver.compatible.isEmpty {
                text += String(repeating: " ", count: width + 2) + "binds \(driver.compatible.joined(separator: ", "))"
                text += driver.boards.isEmpty ? " (on no board here)\n" : " (on \(driver.boards.joined(separator: ", ")))\n"
            }
            if !driver.uses.isEmpty { text += String(repeating: " ", count: width + 2) + "uses \(driver.uses.joined(separator: ", "))\n" }
            if !driver.summary.isEmpty { text += String(repeating: " ", count: width + 2) + driver.summary + "\n" }
            return text
        }.joined()
    }

    // MARK: Markdown, for the README

    /// The README's table of boards.
    public var boardsMarkdown: String {
        var text = "| `--target` | board | RAM | hardware: driver (device type), * the board's default |\n| --- | --- | --- | --- |\n"
        for board in boards {
            let target = "`\(board.name)`" + (board.aliases.isEmpty ? "" : " (" + board.aliases.map { "`\($0)`" }.joined(separator: ", ") + ")")
            var groups: [(drivers: String, names: [String])] = []
            for hardware in board.hardware where !hardware.drivers.isEmpty {
                let drivers = hardware.drivers.map { "\($0.driver) (\($0.provides)\(hardware.defaultFor.contains($0.provides) ? "*" : ""))" }
                    .joined(separator: ", ")
                if let index = groups.firstIndex(where: { $0.drivers == drivers }) {
                    groups[index].names.append(hardware.name)
                } else {
                    groups.append((drivers, [hardware.name]))
                }
            }
            let hardware = groups.map { "\($0.names.joined(separator: ", ")): \($0.drivers)" }.joined(separator: "; ")
            text += "| \(target) | \(board.description) | \(board.ramBytes.map(mebibytes) ?? "the host's") | \(hardware) |\n"
        }
        return text
    }

    /// The README's table of device types.
    public var devicesMarkdown: String {
        var text = "| type | constructors in config.swift | drivers | keys |\n| --- | --- | --- | --- |\n"
        for device in devices {
            let constructors = device.constructors.map { "`\($0.name)`" }.joined(separator: ", ")
            let keys = device.keys.map { "`--\($0.name)`" }.joined(separator: ", ")
            text += "| `\(device.swiftName)` | \(constructors) | \(device.drivers.joined(separator: ", ")) | \(keys) |\n"
        }
        return text
    }

    // MARK: JSON

    /// The whole catalogue, or one part of it, as JSON with keys in a fixed order.
    public func json(_ part: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        switch part {
        case "boards": data = try encoder.encode(boards)
        case "devices": data = try encoder.encode(devices)
        default: data = try encoder.encode(drivers)
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    func mebibytes(_ bytes: UInt64) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) B"
    }

    func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}

/// The number of lines in a text file.
func lineCount(of file: URL) throws -> Int {
    let data = try Data(contentsOf: file)
    return data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
}

extension Driver {
    /// The opening comment of its descriptor, as one line.
    func summary() throws -> String {
        let text = try String(contentsOf: folder.appendingPathComponent(Driver.descriptorName), encoding: .utf8)
        let comment = text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
        return comment.map { $0.dropFirst().trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
