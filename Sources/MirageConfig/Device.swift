/// What kind of device something is: the types a job's signature names.
///
/// New kinds of device (entropy, block, network, key-value stores) are new
/// values of this type, declared by whoever writes the device, inside the
/// tool or in a device package outside it.
public struct DeviceType: Hashable, Encodable, CustomStringConvertible, Sendable {
    /// The name used in messages and in the generated code, such as `console`.
    public let name: String
    /// The types a device of this type may also be given as: a store that
    /// takes writes (`kv-writer`) is also one that can be read (`kv`).
    public let standsInFor: [String]

    /// Declares a device type called `name`, whose devices also fit where
    /// `others` are needed.
    public init(_ name: String, standingInFor others: [DeviceType] = []) {
        self.name = name
        standsInFor = others.flatMap { [$0.name] + $0.standsInFor }
    }

    public var description: String { name }

    /// Whether a device of this type can be given where `needed` is asked for.
    public func fits(_ needed: DeviceType) -> Bool { name == needed.name || standsInFor.contains(needed.name) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// Where something was written in config.swift, for error messages.
public struct SourceLocation: Hashable, Encodable, Sendable {
    /// The path of the file, as the compiler saw it.
    public let file: String
    /// The 1-based line.
    public let line: Int

    typealias CodingKeys = ConfigurationFormat.LocationField

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}

/// How a device is implemented, decided when the configuration is resolved
/// for a board.
public indirect enum Implementation: Hashable, Encodable, Sendable {
    /// The board's own device of this type (its `defaults` in targets/BOARD.yaml).
    case boardDefault
    /// A named driver (a folder with a driver.yaml); if it drives hardware,
    /// the board must have hardware whose `compatible` it binds to.
    case driver(String)
    /// A choice by the value of a configure-time key (or the target board),
    /// like functoria's `match_impl`.
    case match(key: String, cases: [String: Device], otherwise: Device?)

    typealias CodingKeys = ConfigurationFormat.ImplementationField

    // Written out field by field: this JSON is read by the tool, not by Swift's synthesised decoder.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .boardDefault:
            try container.encode(ConfigurationFormat.ImplementationKind.boardDefault.rawValue, forKey: .kind)
        case .driver(let name):
            try container.encode(ConfigurationFormat.ImplementationKind.driver.rawValue, forKey: .kind)
            try container.encode(name, forKey: .driver)
        case let .match(key, cases, otherwise):
            try container.encode(ConfigurationFormat.ImplementationKind.match.rawValue, forKey: .kind)
            try container.encode(key, forKey: .key)
            try container.encode(cases, forKey: .cases)
            try container.encodeIfPresent(otherwise, forKey: .otherwise)
        }
    }
}

/// A device a unikernel uses: its type, how it is implemented, the devices
/// it is built on and the keys it reads.
///
/// Devices are values: two devices built the same way are equal, and the
/// resolver makes them one instance that all their users share.
public struct Device: Hashable, Encodable, Sendable {
    /// What kind of device this is.
    public let type: DeviceType
    /// The name of the instance in the generated code and the device graph.
    public let name: String
    /// How it is implemented.
    public let implementation: Implementation
    /// Devices this one is built on, in the order its driver takes them.
    public let arguments: [Device]
    /// Keys the device reads.
    public let keys: [KeyDeclaration]
    /// Settings of its own that its driver's glue can read as `{parameter.NAME}`.
    public let parameters: [String: String]
    /// Used only where the board has hardware for it, and left out elsewhere
    /// (`Device.optional`), instead of being an error.
    public let isOptional: Bool
    /// Where the device was declared; `nil` for the built-in values such as
    /// `defaultConsole`, whose place is where they are used.
    public let location: SourceLocation?

    /// Declares a device. Libraries of devices call this; a config usually
    /// uses the ready-made ones (`defaultConsole`, `pl011Console()`, ...).
    public init(
        _ type: DeviceType,
        name: String,
        implementation: Implementation,
        arguments: [Device] = [],
        keys: [KeyDeclaration] = [],
        parameters: [String: String] = [:],
        isOptional: Bool = false,
        location: SourceLocation? = nil
    ) {
        self.type = type
        self.name = name
        self.implementation = implementation
        self.arguments = arguments
        self.keys = keys
        self.parameters = parameters
        self.isOptional = isOptional
        self.location = location
        Catalog.checkName(name, at: location)
    }

    typealias CodingKeys = ConfigurationFormat.DeviceField

    // Equality ignores the source location: devices equal by construction are one.
    public static func == (lhs: Device, rhs: Device) -> Bool {
        lhs.type == rhs.type && lhs.name == rhs.name && lhs.implementation == rhs.implementation
            && lhs.arguments == rhs.arguments && lhs.keys == rhs.keys && lhs.parameters == rhs.parameters
            && lhs.isOptional == rhs.isOptional
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(name)
        hasher.combine(implementation)
        hasher.combine(arguments)
    }

    /// `device`, used where the board has hardware for it and left out where
    /// it has none. A driver's glue takes optional arguments with `each`.
    public static func optional(_ device: Device) -> Device {
        Device(device.type, name: device.name, implementation: device.implementation, arguments: device.arguments,
               keys: device.keys, parameters: device.parameters, isOptional: true, location: device.location)
    }

    /// Chooses among devices by the board the configuration is for, like
    /// functoria's `match_impl Key.target`. Board names or their aliases.
    public static func match(
        target cases: [String: Device],
        default otherwise: Device? = nil,
        file: String = #filePath, line: Int = #line
    ) -> Device {
        match(key: "target", cases: cases, default: otherwise, at: SourceLocation(file: file, line: line))
    }

    /// Chooses among devices by the value of a configure-time key.
    public static func match(
        _ key: Key<String>,
        cases: [String: Device],
        default otherwise: Device? = nil,
        file: String = #filePath, line: Int = #line
    ) -> Device {
        let location = SourceLocation(file: file, line: line)
        if key.declaration.stage != .configure {
            Diagnostics.error("match needs a configure-time key, but '\(key.name)' is read at boot", at: location,
                              fix: "declare it with Key.configure(\"\(key.name)\", ...)")
        }
        // The match declares its key: a config need not list it in the job's keys too.
        return match(key: key.name, cases: cases, default: otherwise, declaring: [key.declaration], at: location)
    }

    static func match(key: String, cases: [String: Device], default otherwise: Device?, declaring keys: [KeyDeclaration] = [],
                      at location: SourceLocation) -> Device {
        // In the order of the case names, never the dictionary's: the same config gives the same image.
        let all = cases.keys.sorted().map { cases[$0]! } + (otherwise.map { [$0] } ?? [])
        guard let first = all.first else {
            Diagnostics.error("match has no cases", at: location, fix: "give at least one device")
            return Device(DeviceType("invalid"), name: "invalid", implementation: .boardDefault, location: location)
        }
        // The match is of the type every case fits: readable, when one case is a store that also takes writes.
        guard let type = all.map(\.type).first(where: { common in all.allSatisfy { $0.type.fits(common) } }) else {
            let other = all.first { !$0.type.fits(first.type) && !first.type.fits($0.type) } ?? first
            Diagnostics.error("match mixes device types: \(first.type) and \(other.type)", at: location,
                              fix: "every case of a match must be the same type of device")
            return first
        }
        return Device(type, name: first.name,
                      implementation: .match(key: key, cases: cases, otherwise: otherwise),
                      arguments: first.arguments, keys: keys, location: location)
    }
}
