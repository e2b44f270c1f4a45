/// What kind of device something is: the types a job's signature names.
///
/// New kinds of device (entropy, block, network, key-value stores) are new
/// values of this type, added without changing the core.
public struct DeviceType: Hashable, Codable, CustomStringConvertible, Sendable {
    /// The name used in messages and in the generated code, such as `console`.
    public let name: String

    /// Declares a device type called `name`.
    public init(_ name: String) { self.name = name }

    public var description: String { name }
}

/// Where something was written in config.swift, for error messages.
public struct SourceLocation: Hashable, Codable, Sendable {
    /// The path of the file, as the compiler saw it.
    public let file: String
    /// The 1-based line.
    public let line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}

/// How a device is implemented, decided when the configuration is resolved
/// for a board.
public indirect enum Implementation: Hashable, Codable, Sendable {
    /// The board's own device of this type (its `defaults` in targets/BOARD.yaml).
    case boardDefault
    /// A named driver in Sources/Boot/Drivers; the board must have hardware it drives.
    case driver(String)
    /// A choice by the value of a configure-time key (or the target board),
    /// like functoria's `match_impl`.
    case match(key: String, cases: [String: Device], otherwise: Device?)
}

/// A device a unikernel uses: its type, how it is implemented, the devices
/// it is built on and the keys it reads.
///
/// Devices are values: two devices built the same way are equal, and the
/// resolver makes them one instance that all their users share.
public struct Device: Hashable, Codable, Sendable {
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
    /// Settings of its own that the resolver and the glue read, such as the
    /// hardware it must or may use: `hardware` (drivers the board must
    /// have) and `optional-hardware` (drivers used when the board has them).
    public let parameters: [String: String]
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
        location: SourceLocation? = nil
    ) {
        self.type = type
        self.name = name
        self.implementation = implementation
        self.arguments = arguments
        self.keys = keys
        self.parameters = parameters
        self.location = location
        Catalog.checkName(name, at: location)
    }

    // Equality ignores the source location: devices equal by construction are one.
    public static func == (lhs: Device, rhs: Device) -> Bool {
        lhs.type == rhs.type && lhs.name == rhs.name && lhs.implementation == rhs.implementation
            && lhs.arguments == rhs.arguments && lhs.keys == rhs.keys && lhs.parameters == rhs.parameters
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(name)
        hasher.combine(implementation)
        hasher.combine(arguments)
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
        return match(key: key.name, cases: cases, default: otherwise, at: location)
    }

    static func match(key: String, cases: [String: Device], default otherwise: Device?, at location: SourceLocation) -> Device {
        let all = Array(cases.values) + (otherwise.map { [$0] } ?? [])
        guard let first = all.first else {
            Diagnostics.error("match has no cases", at: location, fix: "give at least one device")
            return Device(DeviceType("invalid"), name: "invalid", implementation: .boardDefault, location: location)
        }
        for device in all where device.type != first.type {
            Diagnostics.error("match mixes device types: \(first.type) and \(device.type)", at: location,
                              fix: "every case of a match must be the same type of device")
        }
        return Device(first.type, name: first.name,
                      implementation: .match(key: key, cases: cases, otherwise: otherwise),
                      arguments: first.arguments, location: location)
    }
}
