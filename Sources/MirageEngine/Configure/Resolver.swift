import Foundation

/// Resolves a configuration graph for a board: follows `match` choices,
/// chooses each device's driver and binds it to board hardware by the
/// device tree's `compatible` (as Linux and Zephyr bind drivers), merges
/// devices equal by construction into one instance, and gives keys their
/// values. It collects every error it finds, each with its config.swift
/// line, before giving up.
public struct Resolver {
    public let graph: ConfigModel.Graph
    public let board: Board
    public let drivers: DriverCatalog
    public let target: String
    public let toolchain: String
    public let assertConfig: AssertConfiguration
    /// Values given on the configure command line, by key name.
    public let keyValues: [String: String]
    public let packages: [DevicePackage]

    public init(graph: ConfigModel.Graph, board: Board, drivers: DriverCatalog, target: String,
                toolchain: String = Toolchain.defaultName, assertConfig: AssertConfiguration = .debug,
                keyValues: [String: String] = [:], packages: [DevicePackage] = []) {
        self.graph = graph
        self.assertConfig = assertConfig
        self.board = board
        self.drivers = drivers
        self.target = target
        self.toolchain = toolchain
        self.keyValues = keyValues
        self.packages = packages
    }

    /// What became of a device in the graph.
    enum Outcome {
        case instance(String)
        /// An optional device the board has no hardware for.
        case omitted
        case failed
    }

    /// All errors found, or the resolved configuration.
    public func resolve() throws -> ResolvedConfiguration {
        var errors: [MirageError] = []
        let keys = resolveKeys(&errors)
        let keyLookup = Dictionary(keys.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })

        var ordered: [ResolvedDevice] = []
        var seen: [ConfigModel.Device: String] = [:]        // device -> instance name
        var byName: [String: ConfigModel.Device] = [:]
        var usedAt: [String: [String]] = [:]
        var owners: [String: String] = [:]                  // peripheral -> instance name

        func visit(_ device: ConfigModel.Device, from user: ConfigModel.Location) -> Outcome {
            let place = device.location ?? user
            if let name = seen[device] {
                usedAt[name, default: []].append(describe(place))
                return .instance(name)
            }
            guard let chosen = choose(device, keys: keyLookup, at: place, &errors) else { return .failed }
            let binding: Binding
            switch bind(chosen, named: device.name, optional: device.isOptional || chosen.isOptional, owners: owners, at: place) {
            case .bound(let found): binding = found
            case .omitted: return .omitted
            case .failed(let error):
                errors.append(error)
                return .failed
            }
            var argumentNames: [String] = []
            for argument in chosen.arguments {
                switch visit(argument, from: place) {
                case .instance(let name): argumentNames.append(name)
                case .omitted: continue
                case .failed: return .failed
                }
            }
            if let other = byName[device.name], other != device {
                let otherPlace = other.location.map(describe) ?? "a built-in device"
                errors.append(MirageError("two different devices are both named '\(device.name)' (the other is \(otherPlace))",
                                          at: location(place), fix: "give one of them another name: name: \"\(device.name)2\""))
                return .failed
            }
            if let peripheral = binding.peripheral { owners[peripheral.name] = device.name }
            byName[device.name] = device
            seen[device] = device.name
            usedAt[device.name, default: []].append(describe(place))
            let compatible = binding.peripheral?.compatible.first { binding.driver.compatible.contains($0) }
            ordered.append(ResolvedDevice(name: device.name, type: device.type, driver: binding.driver.name,
                                          peripheral: binding.peripheral?.name, path: binding.peripheral?.path, compatible: compatible,
                                          parameters: chosen.parameters, arguments: argumentNames, usedAt: []))
            return .instance(device.name)
        }

        var jobArguments: [String] = []
        for device in graph.devices {
            switch visit(device, from: graph.applicationLocation) {
            case .instance(let name): jobArguments.append(name)
            case .omitted:
                errors.append(MirageError("the job's \(device.type) '\(device.name)' is optional, and the \(board.name) board has no hardware for it",
                                          at: location(device.location ?? graph.applicationLocation), fix: "give the job a device the board has"))
            case .failed: break
            }
        }
        if !errors.isEmpty { throw MirageErrors(errors: errors) }
        let devices = ordered.map {
            ResolvedDevice(name: $0.name, type: $0.type, driver: $0.driver, peripheral: $0.peripheral, path: $0.path,
                           compatible: $0.compatible, parameters: $0.parameters, arguments: $0.arguments, usedAt: usedAt[$0.name] ?? [])
        }
        let stdout = devices.first { device in device.arguments.isEmpty && (try? drivers.driver(device.driver))?.stdout == true }
        var fixes: [String: String] = [:]
        for driver in drivers.drivers { fixes.merge(driver.symbols) { first, _ in first } }
        return ResolvedConfiguration(format: ResolvedConfiguration.currentFormat, name: graph.name, job: graph.job, board: board.name,
                                     target: target, toolchain: toolchain, assertConfig: assertConfig, devices: devices,
                                     jobArguments: jobArguments, jobSignature: graph.signature, stdout: stdout?.name,
                                     keys: keys, packages: packages, toolVersion: Installation.toolVersion, boardDescription: board,
                                     drivers: try drivers.closure(of: devices.map(\.driver)),
                                     runtimeDrivers: try drivers.closure(of: devices.map(\.driver) + boardRuntimeDrivers()),
                                     missingSymbolFixes: fixes)
    }

    /// What any image of the board may use: the drivers that bind to its
    /// hardware and the software drivers (which drive no hardware).
    func boardRuntimeDrivers() -> [String] {
        drivers.drivers.filter { driver in
            driver.drivesHardware ? board.peripherals.contains(where: driver.binds) : driver.provides != nil
        }.map(\.name)
    }

    /// Follows `match` choices down to a device with a fixed implementation.
    func choose(_ device: ConfigModel.Device, keys: [String: String], at place: ConfigModel.Location,
                _ errors: inout [MirageError]) -> ConfigModel.Device? {
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

    struct Binding {
        let driver: Driver
        /// nil for a software driver.
        let peripheral: Board.Peripheral?
    }

    enum BindOutcome {
        case bound(Binding)
        case omitted
        case failed(MirageError)
    }

    /// The driver that implements `device` and the board hardware it binds
    /// to: the board's chosen hardware for a default device, else the first
    /// hardware not yet taken whose `compatible` the driver knows.
    func bind(_ device: ConfigModel.Device, named name: String, optional: Bool, owners: [String: String],
              at place: ConfigModel.Location) -> BindOutcome {
        let type = device.type
        switch device.implementation {
        case .boardDefault:
            let chosen = board.defaults[type].flatMap(board.peripheral(named:))
            let candidates = chosen.map { [$0] } ?? board.peripherals.filter { !drivers.drivers(for: $0, providing: type).isEmpty }
            for peripheral in candidates {
                guard let driver = drivers.drivers(for: peripheral, providing: type).first else {
                    return .failed(MirageError("no driver binds to the \(board.name) board's \(peripheral.name) (compatible \(peripheral.compatible.joined(separator: ", "))) as a \(type)",
                                               at: location(place), fix: "add a driver whose driver.yaml provides \(type) with one of those compatible strings"))
                }
                if let owner = owners[peripheral.name], candidates.count == 1 {
                    return .failed(taken(peripheral, by: owner, wantedBy: name))
                }
                if owners[peripheral.name] == nil { return checked(Binding(driver: driver, peripheral: peripheral)) }
            }
            if optional { return .omitted }
            let offers = offered(type)
            return .failed(MirageError("the \(board.name) board has no default \(type)", at: location(place),
                                       fix: offers.isEmpty ? "choose a board that has one" : "name one of its drivers: \(offers)"))
        case .driver(let driverName):
            guard let driver = try? drivers.driver(driverName) else {
                return .failed(MirageError("there is no driver '\(driverName)' for the \(type) '\(name)'", at: location(place),
                                           fix: "known drivers: \(drivers.drivers.filter { $0.provides != nil }.map(\.name).joined(separator: ", "))"))
            }
            guard driver.provides == type else {
                return .failed(MirageError("the driver '\(driverName)' provides \(driver.provides.map { "a \($0)" } ?? "no device"), not a \(type) ('\(name)')",
                                           at: location(place), fix: "use a driver that provides \(type): \(drivers.drivers.filter { $0.provides == type }.map(\.name).joined(separator: ", "))"))
            }
            guard driver.drivesHardware else { return .bound(Binding(driver: driver, peripheral: nil)) }
            let fitting = board.peripherals.filter(driver.binds(to:))
            if let free = fitting.first(where: { owners[$0.name] == nil }) { return checked(Binding(driver: driver, peripheral: free)) }
            if optional { return .omitted }
            if let last = fitting.last, let owner = owners[last.name] { return .failed(taken(last, by: owner, wantedBy: name)) }
            let offers = offered(type)
            return .failed(MirageError("the \(board.name) board cannot provide a \(driverName) \(type) ('\(name)')", at: location(place),
                                       fix: offers.isEmpty ? "the \(board.name) board has no \(type) hardware"
                                                           : "on \(board.name) use its default or a device with driver: \(offers); or Device.match(target:) per board"))
        case .match:
            return .failed(MirageError("internal error: an unresolved match", at: location(place)))   // choose(_:) resolves matches first
        }
    }

    /// The binding, or the board's fault if its node lacks what the driver
    /// reads (its descriptor's `node:`): the driver would stop at boot.
    func checked(_ binding: Binding) -> BindOutcome {
        guard let peripheral = binding.peripheral else { return .bound(binding) }
        let shortfalls = binding.driver.node.shortfalls(of: peripheral, on: board)
        guard !shortfalls.isEmpty else { return .bound(binding) }
        return .failed(MirageError("\(board.file): the node \(peripheral.node) (\(peripheral.name)) lacks what the driver \(binding.driver.name) reads: "
                                   + shortfalls.joined(separator: "; "),
                                   fix: "complete the node in \(board.file) (see node: in \(binding.driver.name)'s \(Driver.descriptorName))"))
    }

    func taken(_ peripheral: Board.Peripheral, by owner: String, wantedBy name: String) -> MirageError {
        MirageError("devices '\(owner)' and '\(name)' both use the board's \(peripheral.name), and it has no other",
                    at: location(graph.applicationLocation), fix: "use one device for it, shared by both users")
    }

    /// What the board offers for `type`: "ns16550 (uart0)", one entry per driver.
    func offered(_ type: String) -> String {
        var byDriver: [(driver: String, peripherals: [String])] = []
        for peripheral in board.peripherals {
            for driver in drivers.drivers(for: peripheral, providing: type) {
                if let index = byDriver.firstIndex(where: { $0.driver == driver.name }) {
                    byDriver[index].peripherals.append(peripheral.name)
                } else {
                    byDriver.append((driver.name, [peripheral.name]))
                }
            }
        }
        return byDriver.map { "\($0.driver) (\($0.peripherals.joined(separator: ", ")))" }.joined(separator: ", ")
    }

    /// Every key the job and its devices declare, with the value in force.
    func resolveKeys(_ errors: inout [MirageError]) -> [ResolvedKey] {
        var result: [ResolvedKey] = []
        var byName: [String: ConfigModel.Key] = [:]
        for declaration in KeyListing.allDeclarations(of: graph) {
            if let earlier = byName[declaration.name] {
                if earlier != declaration {
                    errors.append(MirageError("two different keys are named '\(declaration.name)' (the other at \(describe(earlier.location)))",
                                              at: location(declaration.location), fix: "rename one of them"))
                }
                continue
            }
            let identifier = GlueEmitter.identifier(declaration.name)
            if let clash = byName.values.first(where: { GlueEmitter.identifier($0.name) == identifier }) {
                errors.append(MirageError("keys '\(clash.name)' (at \(describe(clash.location))) and '\(declaration.name)' are both Keys.\(identifier) in Swift",
                                          at: location(declaration.location), fix: "rename one of them"))
            }
            byName[declaration.name] = declaration
            let value = keyValues[declaration.name] ?? declaration.defaultValue
            if let problem = KeyValues.problem(with: value, type: declaration.type, minimum: declaration.minimum,
                                                maximum: declaration.maximum, choices: declaration.choices, format: declaration.format) {
                let given = keyValues[declaration.name] != nil ? "--\(declaration.name) \(value)" : "its default '\(value)'"
                errors.append(MirageError("key '\(declaration.name)' does not take \(given): \(problem)",
                                          at: location(placeInConfig(of: declaration)), fix: "give --\(declaration.name) a value that fits"))
            }
            result.append(ResolvedKey(name: declaration.name, doc: declaration.doc, type: declaration.type, stage: declaration.stage,
                                      defaultValue: declaration.defaultValue, minimum: declaration.minimum, maximum: declaration.maximum,
                                      choices: declaration.choices, format: declaration.format, value: value,
                                      declaredAt: describe(declaration.location)))
        }
        if let problem = KeyValues.relationProblem(result.map { ($0.name, $0.format, $0.value) }) {
            let place = byName[problem.key].map(placeInConfig(of:)) ?? graph.registerLocation
            errors.append(MirageError(problem.text, at: location(place), fix: "give the keys values that work together"))
        }
        for name in keyValues.keys.sorted() where byName[name] == nil {
            let known = byName.keys.sorted().map { "--\($0)" }.joined(separator: ", ")
            errors.append(MirageError("config.swift declares no key '\(name)'",
                                      fix: known.isEmpty ? "this config declares no keys" : "its keys are: \(known)"))
        }
        return result
    }

    func describe(_ place: ConfigModel.Location) -> String { "\(displayPath(place.file)):\(place.line)" }

    /// Where config.swift brings `key` in: its own line when config.swift
    /// declares it, else the line of the device that declares it there (a
    /// key of the DSL's, such as --ip-mode, is not the DSL's source file's fault).
    func placeInConfig(of key: ConfigModel.Key) -> ConfigModel.Location {
        let config = graph.registerLocation.file
        if key.location.file == config { return key.location }
        var found: ConfigModel.Location?
        func visit(_ device: ConfigModel.Device) {
            guard found == nil else { return }
            if device.keys.contains(where: { $0.name == key.name }), let place = device.location, place.file == config { found = place; return }
            device.arguments.forEach(visit)
            if case let .match(_, cases, otherwise) = device.implementation {
                cases.keys.sorted().forEach { visit(cases[$0]!) }
                otherwise.map(visit)
            }
        }
        graph.devices.forEach(visit)
        return found ?? graph.applicationLocation
    }

    func location(_ place: ConfigModel.Location) -> (file: String, line: Int) { (displayPath(place.file), place.line) }
}
