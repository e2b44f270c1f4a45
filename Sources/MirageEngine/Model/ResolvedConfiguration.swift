import Foundation

/// A device graph resolved for one board: every device has a driver and,
/// if it drives hardware, the board hardware it is bound to; shared devices
/// are one instance; keys have values. Written to _build/configuration.json,
/// it holds every fact the later stages need (the board's description, the
/// chosen drivers' descriptors, the toolchain, the qemu profile), so that
/// `build`, `run`, `image`, `test` and `query` read it alone: nothing is
/// looked up in targets/, the drivers' folders or toolchains/ after configure.
public struct ResolvedConfiguration: Codable {
    /// Which layout of configuration.json this is; a file of another is configured again.
    public static let currentFormat = 4
    public let format: Int
    public let name: String
    public let job: String
    /// The board's own name (`virt` for `--target arm`).
    public let board: String
    /// The target as the person wrote it.
    public let target: String
    public let toolchain: String
    /// Whether failed checks print their message (`debug`) or only trap (`release`).
    public let assertConfig: AssertConfiguration
    /// Devices in the order they are brought up: arguments before users.
    public let devices: [ResolvedDevice]
    /// The instances the job's `start` takes, in signature order.
    public let jobArguments: [String]
    /// The device types it takes them as (its labels): a device may stand in for the type asked for.
    public let jobSignature: [String]
    /// The console `print()` and fault reports use (/chosen/stdout-path):
    /// the first device whose driver says `stdout: true`.
    public let stdout: String?
    public let keys: [ResolvedKey]
    /// The device packages config.swift imports, whose drivers the build compiles.
    public let packages: [DevicePackage]
    public let toolVersion: String
    /// The board, as targets/BOARD.yaml described it when configured.
    public let boardDescription: Board
    /// The descriptors of the drivers the image compiles: the devices' drivers
    /// and the libraries they use, in name order.
    public let drivers: [Driver]
    /// The descriptors of what a board image's runtime module holds
    /// (`RuntimeModule`): every driver that binds to the board's hardware,
    /// every software driver, the libraries they use, and the chosen
    /// drivers, in name order. One module serves every configuration of
    /// the board, so the cache compiles it once per board and flags rather
    /// than once per set of devices; the link keeps only what the job uses.
    public let runtimeDrivers: [Driver]
    /// For a build that fails for want of a symbol: the fix each driver the
    /// image lacks gives for the symbols it defines (from every known driver).
    public let missingSymbolFixes: [String: String]
    /// The toolchain, as toolchains/NAME.yaml described it (set by configure).
    public internal(set) var toolchainDescription: Toolchain?
    /// How qemu emulates the board, as qemu/PROFILE.yaml said (nil: no qemu for it).
    public internal(set) var qemuProfile: QemuProfile?
    /// The sanitizer a host program is built with (`configure --sanitize`).
    public internal(set) var sanitizer: Sanitizer?
    /// Whether a board image's runtime, drivers and job are compiled as one
    /// module (`configure --whole-image`), rather than the runtime and drivers
    /// apart, once, from the cache (`RuntimeModule`).
    public internal(set) var wholeImage = false

    public func device(named name: String) -> ResolvedDevice? { devices.first { $0.name == name } }

    /// The fix a driver gives for a symbol it defines that `output` (a failed
    /// link's) names: the image lacks that driver. Symbols in name order, so
    /// the answer does not depend on dictionary order.
    public func fix(forMissingSymbolIn output: String) -> String? {
        missingSymbolFixes.keys.sorted().first { output.contains($0) }.flatMap { missingSymbolFixes[$0] }
    }

    /// The chosen drivers, to look up by name.
    public var driverCatalog: DriverCatalog { DriverCatalog(drivers: drivers) }
}

public struct ResolvedDevice: Codable {
    /// Instance name, a Swift identifier in the glue code.
    public let name: String
    public let type: String
    public let driver: String
    /// The board hardware it is bound to; nil for a software device.
    public let peripheral: String?
    /// That hardware's node in the device tree; nil for a software device.
    public let path: String?
    /// The `compatible` string its driver bound to; the runtime checks the
    /// device tree it boots with still says so.
    public let compatible: String?
    /// The device's own settings, from the DSL.
    public let parameters: [String: String]
    /// Instance names of the devices it is built on (optional ones the board
    /// lacks are left out).
    public let arguments: [String]
    /// Every place in config.swift it is used from, "config.swift:LINE".
    public let usedAt: [String]
}

public struct ResolvedKey: Codable {
    public let name: String
    public let doc: String
    public let type: ConfigModel.KeyType
    public let stage: ConfigModel.KeyStage
    public let defaultValue: String
    public let minimum: Int?
    public let maximum: Int?
    public let choices: [String]?
    public let format: String?
    /// The value in force: the default or what `configure --NAME` gave.
    public let value: String
    public let declaredAt: String

    /// Why `text` is not a value of this key, or nil if it is.
    public func problem(with text: String) -> String? {
        KeyValues.problem(with: text, type: type, minimum: minimum, maximum: maximum, choices: choices, format: format)
    }
}

/// A sanitizer for the host target's program: the host's swiftc and clang
/// instrument the job, the runtime and the drivers, and the report names the
/// source line (`configure --target host --sanitize address`).
public enum Sanitizer: String, Codable, CaseIterable {
    /// AddressSanitizer: out-of-bounds and use-after-free accesses.
    case address
    /// UndefinedBehaviorSanitizer, for the C parts (Swift checks its own).
    case undefined
}

/// How much a failed check (fatalError, precondition, an index out of range,
/// a nil unwrap) says before it traps. The Embedded stdlib prints the message
/// and the file:line only in its Debug assert configuration, which costs
/// image size (about 35 KB on hello).
public enum AssertConfiguration: String, Codable, CaseIterable {
    /// Messages with their file and line, then the trap (the default).
    case debug
    /// Only the trap: the smallest image.
    case release

    /// swiftc's `-assert-config` value.
    var swiftcValue: String { self == .debug ? "Debug" : "Release" }
}
