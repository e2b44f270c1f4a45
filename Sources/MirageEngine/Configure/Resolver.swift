import Foundation
import MirageConfig

/// A device graph resolved for one board: every device has a driver and a
/// peripheral, shared devices are one instance, keys have values. This is
/// what the emitters and the build read.
public struct ResolvedConfiguration: Codable {
    public let name: String
    public let job: String
    /// The board's own name (`virt` for `--target arm`).
    public let board: String
    /// The target as the person wrote it.
    public let target: String
    public let toolchain: String
    /// Devices in the order they are brought up: arguments before users.
    public let devices: [ResolvedDevice]
    /// The instances the job's `start` takes, in signature order.
    public let jobArguments: [String]
    public let keys: [ResolvedKey]
    public let toolVersion: String

    public func device(named name: String) -> ResolvedDevice? { devices.first { $0.name == name } }
}

public struct ResolvedDevice: Codable {
    /// Instance name, a Swift identifier in the glue code.
    public let name: String
    public let type: String
    public let driver: String
    /// The board peripheral it drives; nil for software devices.
    public let peripheral: String?
    /// Its node in the device tree; nil for software devices.
    public let path: String?
    /// Further board hardware it uses (an entropy pool's virtio-rng).
    public let hardware: [ResolvedHardware]
    /// The device's own settings, from the DSL.
    public let parameters: [String: String]
    /// Instance names of the devices it is built on.
    public let arguments: [String]
    /// Every place in config.swift it is used from, "config.swift:LINE".
    public let usedAt: [String]

    /// Every board peripheral the device uses.
    public var peripherals: [String] { (peripheral.map { [$0] } ?? []) + hardware.map(\.peripheral) }
}

/// A board peripheral a device uses besides its own.
public struct ResolvedHardware: Codable {
    public let driver: String
    public let peripheral: String
    public let path: String
}

public struct ResolvedKey: Codable {
    public let name: String
    public let doc: String
    public let type: KeyType
    public let stage: KeyStage
    public let defaultValue: String
    /// The value in force: the default or what `configure --NAME` gave.
    public let value: String
    public let declaredAt: String
}

/// Resolves a configuration graph for a board, collecting every error it
/// finds (with its config.swift line) before giving up.
public struct Resolver {
    public let graph: ConfigurationGraph
    public let board: Board
    public let target: String
    public let toolchain: String
    /// Values given on the configure command line, by key name.
    public let keyValues: [String: String]

    public init(graph: ConfigurationGraph, board: Board, target: String, toolchain: String = Toolchain.defaultName,
                keyValues: [String: String] = [:]) {
        self.graph = graph
        self.board = board
        self.target = target
        self.toolchain = toolchain
        self.keyValues = keyValues
    }

    /// All errors found, or the resolved configuration.
    public func resolve() throws -> ResolvedConfiguration {
        var errors: [MirageError] = []
        let keys = resolveKeys(&errors)
        let keyLookup = Dictionary(keys.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })

        var ordered: [ResolvedDevice] = []
        var seen: [Device: String] = [:]        // device -> instance name
        var byName: [String: Device] = [:]
        var usedAt: [String: [String]] = [:]

        func visit(_ device: Device, from user: SourceLocation) -> String? {
            let place = device.location ?? user
            if let name = seen[device] {
                usedAt[name, default: []].append(describe(place))
                return name
            }
            let chosen = choose(device, keys: keyLookup, at: place, &errors)
            guard let chosen else { return nil }
            var argumentNames: [String] = []
            for argument in chosen.arguments {
                guard let name = visit(argument, from: place) else { return nil }
                argumentNames.append(name)
            }
            if let other = byName[device.name], other != device {
                let otherPlace = other.location.map(describe) ?? "a built-in device"
                errors.append(MirageError("two different devices are both named '\(device.name)' (the other is \(otherPlace))",
                                          at: location(place), fix: "give one of them another name: name: \"\(device.name)2\""))
                return nil
            }
            guard let (driver, peripheral) = hardware(for: chosen, at: place, &errors),
                  let extra = extraHardware(for: chosen, at: place, &errors) else { return nil }
            byName[device.name] = device
            seen[device] = device.name
            usedAt[device.name, default: []].append(describe(place))
            ordered.append(ResolvedDevice(name: device.name, type: device.type.name, driver: driver,
                                          peripheral: peripheral?.name, path: peripheral?.path, hardware: extra,
                                          parameters: chosen.parameters, arguments: argumentNames, usedAt: []))
            return device.name
        }

        var jobArguments: [String] = []
        for device in graph.devices {
            if let name = visit(device, from: graph.applicationLocation) { jobArguments.append(name) }
        }
        // Two devices may not drive one peripheral.
        var owners: [String: String] = [:]
        for device in ordered {
            for peripheral in device.peripherals {
                if let owner = owners[peripheral] {
                    errors.append(MirageError("devices '\(owner)' and '\(device.name)' both use the board's \(peripheral)",
                                              at: location(graph.applicationLocation), fix: "use one device for it, shared by both users"))
                }
                owners[peripheral] = device.name
            }
        }
        if !errors.isEmpty { throw MirageErrors(errors: errors) }
        let devices = ordered.map {
            ResolvedDevice(name: $0.name, type: $0.type, driver: $0.driver, peripheral: $0.peripheral,
                           path: $0.path, hardware: $0.hardware, parameters: $0.parameters,
                           arguments: $0.arguments, usedAt: usedAt[$0.name] ?? [])
        }
        return ResolvedConfiguration(name: graph.name, job: graph.job, board: board.name, target: target,
                                     toolchain: toolchain, devices: devices, jobArguments: jobArguments,
                                     keys: keys, toolVersion: Installation.toolVersion)
    }

    /// Follows `match` choices down to a device with a fixed implementation.
    func choose(_ device: Device, keys: [String: String], at place: SourceLocation, _ errors: inout [MirageError]) -> Device? {
        guard case let .match(key, cases, otherwise) = device.implementation else { return device }
        let value = key == "target" ? board.name : keys[key] ?? ""
        let aliases = key == "target" ? [board.name] + board.aliases + [target] : [value]
        if let match = aliases.lazy.compactMap({ cases[$0] }).first ?? otherwise {
            return choose(match, keys: keys, at: match.location ?? place, &errors)
        }
        errors.append(MirageError("no case of this match fits \(key) = '\(value)'", at: location(place),
                                  fix: "add a case for \"\(value)\" or a default:; the cases are \(cases.keys.sorted().joined(separator: ", "))"))
        return nil
    }

    /// The driver and board peripheral that implement `device`.
    func hardware(for device: Device, at place: SourceLocation, _ errors: inout [MirageError]) -> (String, Board.Peripheral?)? {
        if case .driver(let name) = device.implementation, let driver = try? DriverCatalog.driver(name), !driver.drivesPeripheral {
            return (name, nil)
        }
        let offered = board.peripherals.filter { $0.provides == device.type.name && $0.driver != nil }
        let offer = offered.map { "\($0.driver!) (\($0.name))" }.joined(separator: ", ")
        switch device.implementation {
        case .boardDefault:
            guard let name = board.defaults[device.type.name], let peripheral = board.peripheral(named: name),
                  let driver = peripheral.driver else {
                errors.append(MirageError("the \(board.name) board has no default \(device.type)",
                                          at: location(place), fix: offered.isEmpty ? "choose a board that has one" : "name one of its drivers: \(offer)"))
                return nil
            }
            return (driver, peripheral)
        case .driver(let driver):
            if let peripheral = offered.first(where: { $0.driver == driver }) { return (driver, peripheral) }
            errors.append(MirageError("the \(board.name) board cannot provide a \(driver) \(device.type) ('\(device.name)')",
                                      at: location(place),
                                      fix: offered.isEmpty ? "the \(board.name) board has no \(device.type) hardware"
                                                           : "on \(board.name) use default\(device.type.name.capitalized) or a device with driver: \(offer); or Device.match(target:) per board"))
            return nil
        case .match:
            return nil   // resolved by choose(_:) first
        }
    }

    /// The hardware a software device must use (`hardware`) or uses when
    /// the board has it (`optional-hardware`); nil after an error.
    func extraHardware(for device: Device, at place: SourceLocation, _ errors: inout [MirageError]) -> [ResolvedHardware]? {
        func list(_ key: String) -> [String] { (device.parameters[key] ?? "").split(separator: ",").map(String.init) }
        var result: [ResolvedHardware] = []
        for driver in list("hardware") + list("optional-hardware") {
            if let peripheral = board.peripherals.first(where: { $0.driver == driver }) {
                result.append(ResolvedHardware(driver: driver, peripheral: peripheral.name, path: peripheral.path))
            } else if list("hardware").contains(driver) {
                errors.append(MirageError("the \(board.name) board has no \(driver) for the \(device.type) '\(device.name)'",
                                          at: location(place), fix: "leave \(driver) out on \(board.name), or use default\(device.type.name.capitalized), which takes what the board has"))
                return nil
            }
        }
        return result
    }

    /// Every key the job and its devices declare, with the value in force.
    func resolveKeys(_ errors: inout [MirageError]) -> [ResolvedKey] {
        let declarations = KeyListing.allDeclarations(of: graph)

        var result: [ResolvedKey] = []
        var byName: [String: KeyDeclaration] = [:]
        for declaration in declarations {
            if let earlier = byName[declaration.name] {
                if earlier != declaration {
                    errors.append(MirageError("two different keys are named '\(declaration.name)' (the other at \(describe(earlier.location)))",
                                              at: location(declaration.location), fix: "rename one of them"))
                }
                continue
            }
            byName[declaration.name] = declaration
            let value = keyValues[declaration.name] ?? declaration.defaultValue
            if !Resolver.parses(value, as: declaration.type) {
                let given = keyValues[declaration.name] != nil ? "--\(declaration.name) \(value)" : "its default '\(value)'"
                errors.append(MirageError("key '\(declaration.name)' is \(article(declaration.type)) \(declaration.type), but \(given) is not",
                                          at: location(declaration.location), fix: Resolver.example(for: declaration.type)))
            }
            result.append(ResolvedKey(name: declaration.name, doc: declaration.doc, type: declaration.type, stage: declaration.stage,
                                      defaultValue: declaration.defaultValue, value: value, declaredAt: describe(declaration.location)))
        }
        for name in keyValues.keys.sorted() where byName[name] == nil {
            let known = byName.keys.sorted().map { "--\($0)" }.joined(separator: ", ")
            errors.append(MirageError("config.swift declares no key '\(name)'",
                                      fix: known.isEmpty ? "this config declares no keys" : "its keys are: \(known)"))
        }
        return result
    }

    static func parses(_ value: String, as type: KeyType) -> Bool {
        switch type {
        case .string: return !value.contains("\"") && !value.contains("\n")
        case .int: return Int(value) != nil
        case .bool: return ["true", "false", "yes", "no", "on", "off", "1", "0"].contains(value)
        }
    }

    static func example(for type: KeyType) -> String {
        switch type {
        case .string: return "give text without double quotes or line breaks"
        case .int: return "give a whole number, such as 3"
        case .bool: return "give true or false"
        }
    }

    func article(_ type: KeyType) -> String { type == .int ? "an" : "a" }

    func describe(_ place: SourceLocation) -> String { "\(displayPath(place.file)):\(place.line)" }

    func location(_ place: SourceLocation) -> (file: String, line: Int) { (displayPath(place.file), place.line) }
}

/// Several errors, each on its own lines.
public struct MirageErrors: Error, CustomStringConvertible {
    public let errors: [MirageError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// The keys a configuration declares: the job's and its devices'.
public enum KeyListing {
    /// Every declaration, in order, repeats included.
    static func allDeclarations(of graph: ConfigurationGraph) -> [KeyDeclaration] {
        var declarations: [KeyDeclaration] = graph.keys
        func collect(_ device: Device) {
            declarations += device.keys
            device.arguments.forEach(collect)
            if case let .match(_, cases, otherwise) = device.implementation {
                cases.keys.sorted().forEach { collect(cases[$0]!) }
                otherwise.map(collect)
            }
        }
        graph.devices.forEach(collect)
        return declarations
    }

    /// Each key once, in declaration order.
    public static func keys(of graph: ConfigurationGraph) -> [KeyDeclaration] {
        var seen = Set<String>()
        return allDeclarations(of: graph).filter { seen.insert($0.name).inserted }
    }
}

/// Key values as `configure` takes them on its command line.
public enum KeyArguments {
    /// `--name value` and `--name=value` pairs; a bare `--flag` means true.
    public static func parse(_ arguments: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw MirageError("unexpected argument '\(argument)'", fix: "give keys as --NAME VALUE; see mirage-config configure --help")
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                values[String(body[..<equals])] = String(body[body.index(after: equals)...])
            } else if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") {
                values[String(body)] = arguments[index + 1]
                index += 1
            } else {
                values[String(body)] = "true"
            }
            index += 1
        }
        return values
    }
}
