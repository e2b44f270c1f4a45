import Foundation

/// Where mirage-config's own files are: the targets (one file per board), toolchains,
/// qemu profiles, the DSL's sources and the Boot runtime. Found from the
/// executable's location, so the tool works as `swift run mirage-config`
/// from the repository and as `.build/debug/mirage-config` from any folder.
public struct Installation {
    /// The folder holding targets/, toolchains/, qemu/ and Sources/.
    public let root: URL

    public static let toolVersion = "0.1.0"

    public var targetsDirectory: URL { root.appendingPathComponent("targets") }
    public var toolchainsDirectory: URL { root.appendingPathComponent("toolchains") }
    public var qemuDirectory: URL { root.appendingPathComponent("qemu") }
    /// The runtime's core: start code, tasks, the loop.
    public var bootSources: URL { root.appendingPathComponent("Sources/Boot") }
    /// One folder per device type, laid out as a device package: DSL/,
    /// Runtime/, Drivers/NAME/, Libraries/NAME/.
    public var devicesDirectory: URL { root.appendingPathComponent("Sources/Devices") }
    /// Drivers and libraries several device types use (virtio-mmio, BLAKE2s).
    public var sharedDriversDirectory: URL { bootSources.appendingPathComponent("Shared") }

    /// Each device type's folder, in name order.
    public func deviceTypeFolders() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: devicesDirectory, includingPropertiesForKeys: nil)
            .filter { folder in
                var isFolder: ObjCBool = false
                return FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue
            }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The DSL's sources: its core (Sources/MirageConfig) and each device
    /// type's DSL/, the files the MirageConfig module is compiled from.
    public func dslSourceFiles() throws -> [URL] {
        try swiftSources(in: root.appendingPathComponent("Sources/MirageConfig"))
            + deviceTypeFolders().flatMap { try swiftSources(in: $0.appendingPathComponent("DSL")) }
    }

    /// The runtime's Swift that every image holds: Core, Tasks, Runtime and
    /// each device type's protocol (its Runtime/).
    public func runtimeSourceFiles() throws -> [URL] {
        try ["Core", "Tasks", "Runtime"].flatMap { try swiftSources(in: bootSources.appendingPathComponent($0)) }
            + deviceTypeFolders().flatMap { try swiftSources(in: $0.appendingPathComponent("Runtime")) }
    }

    /// The folders whose children are drivers and libraries (each with a driver.yaml).
    public func driverParentFolders() throws -> [URL] {
        try [sharedDriversDirectory] + deviceTypeFolders().flatMap {
            [$0.appendingPathComponent("Drivers"), $0.appendingPathComponent("Libraries")]
        }
    }
    /// Where scripts/setup unpacks the boards' firmware (U-Boot with its SPL for SD cards).
    public var firmwareDirectory: URL { root.appendingPathComponent(".build/firmware") }

    public init(root: URL) { self.root = root }

    /// The mirage-config executable, for the commands a boot test runs
    /// ($MIRAGE_CONFIG): this process when it is the tool, else (a unit
    /// test's process) the debug build under the root.
    public var executable: URL {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), link.hasSuffix("/mirage-config") {
            return URL(fileURLWithPath: link)
        }
        return root.appendingPathComponent(".build/debug/mirage-config")
    }

    /// Finds the installation: `$MIRAGE_CONFIG_ROOT`, else the nearest folder
    /// above the executable that holds targets/ and Sources/Boot.
    public static func locate() throws -> Installation {
        if let explicit = ProcessInfo.processInfo.environment["MIRAGE_CONFIG_ROOT"] {
            return Installation(root: URL(fileURLWithPath: explicit))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [Bundle.main.executableURL?.resolvingSymlinksInPath(), executable]
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.insert(URL(fileURLWithPath: link), at: 0)
        }
        for case let start? in candidates {
            var folder = start.deletingLastPathComponent()
            while folder.path != "/" {
                if looksLikeRoot(folder) { return Installation(root: folder) }
                folder = folder.deletingLastPathComponent()
            }
        }
        throw MirageError("cannot find mirage-config's files (targets/, Sources/Boot) above \(executable.path)",
                          fix: "run the tool from its build folder, or set MIRAGE_CONFIG_ROOT to the repository")
    }

    static func looksLikeRoot(_ folder: URL) -> Bool {
        let manager = FileManager.default
        return manager.fileExists(atPath: folder.appendingPathComponent("targets").path)
            && manager.fileExists(atPath: folder.appendingPathComponent("Sources/Boot/Start/start.S").path)
    }
}
