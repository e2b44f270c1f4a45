import Foundation

/// A cross toolchain: which programs compile and link, and their flags.
/// One YAML file in toolchains/ each.
public struct Toolchain: Codable {
    public let name: String
    public let description: String
    public let tools: [String: Tool]
    /// Added to swiftc's flags (after the ones every build has).
    public let swiftFlags: [String]
    public let cFlags: [String]
    public let asmFlags: [String]
    public let linkFlags: [String]
    /// Libraries linked after the objects; `{swift-embedded}` is the Embedded
    /// Swift library folder for the target beside swiftc.
    public let linkLibraries: [String]
    /// What it builds: board images (the default) or host programs
    /// (`builds: process`, for a board that `runs-as: process`).
    public let builds: Board.RunsAs

    enum CodingKeys: String, CodingKey {
        case name, description, tools, builds
        case swiftFlags = "swift-flags"
        case cFlags = "c-flags"
        case asmFlags = "asm-flags"
        case linkFlags = "link-flags"
        case linkLibraries = "link-libraries"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decode(String.self, forKey: .description)
        tools = try container.decode([String: Tool].self, forKey: .tools)
        swiftFlags = try container.decode([String].self, forKey: .swiftFlags)
        cFlags = try container.decode([String].self, forKey: .cFlags)
        asmFlags = try container.decode([String].self, forKey: .asmFlags)
        linkFlags = try container.decode([String].self, forKey: .linkFlags)
        linkLibraries = try container.decode([String].self, forKey: .linkLibraries)
        builds = try container.decodeIfPresent(Board.RunsAs.self, forKey: .builds) ?? .image
    }

    public struct Tool: Codable {
        public let command: String
        /// Look first in the folder of this other tool (clang beside swiftc).
        public let beside: String?
        /// One line telling how to install it.
        public let install: String
    }

    /// The roles every toolchain fills; one that builds images also makes raw images (objcopy).
    public var roles: [String] { builds == .image ? ["swiftc", "cc", "ld", "objcopy"] : ["swiftc", "cc", "ld"] }

    public static let defaultName = "llvm"
    /// What a board that runs as a process is built with, unless another toolchain is named.
    public static let processDefaultName = "host"

    /// The toolchain for `board`: `name`, or for the host target the host's when `name` is the default.
    public static func load(_ name: String, for board: Board, from installation: Installation) throws -> Toolchain {
        let chosen = board.isProcess && name == defaultName ? processDefaultName : name
        let toolchain = try load(chosen, from: installation)
        guard toolchain.builds == board.runsAs else {
            throw MirageError("the \(chosen) toolchain builds \(toolchain.builds == .image ? "board images" : "host programs"), and the \(board.name) target "
                              + (board.isProcess ? "is a host program" : "is a board image"),
                              fix: board.isProcess ? "leave out --toolchain for --target \(board.name)" : "use --toolchain \(defaultName) or gnu")
        }
        return toolchain
    }

    public static func load(_ name: String, from installation: Installation) throws -> Toolchain {
        let file = installation.toolchainsDirectory.appendingPathComponent("\(name).yaml")
        guard FileManager.default.fileExists(atPath: file.path) else {
            let known = (try? FileManager.default.contentsOfDirectory(atPath: installation.toolchainsDirectory.path)) ?? []
            throw MirageError("unknown toolchain '\(name)'",
                              fix: "use one of: \(known.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted().joined(separator: ", "))")
        }
        return try decodeYAML(Toolchain.self, from: file)
    }

    /// Where `role`'s program is, or nil if it is not installed.
    public func locate(_ role: String) -> URL? {
        guard let tool = tools[role] else { return nil }
        if let beside = tool.beside, let sibling = locate(beside) {
            let candidate = sibling.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(tool.command)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return findInPath(tool.command)
    }

    /// Every tool, found or not, for `doctor` and for a clear error before building.
    public func resolveTools() throws -> [String: URL] {
        var found: [String: URL] = [:]
        for role in roles {
            guard let tool = tools[role] else { throw MirageError("toolchain \(name) does not say which program is its \(role)") }
            guard let url = locate(role) else {
                throw MirageError("\(tool.command) (the \(name) toolchain's \(role)) is not installed", fix: tool.install)
            }
            found[role] = url
        }
        return found
    }

    /// The libraries to link, with `{swift-embedded}` filled in from where `swiftc` is.
    public func libraries(swiftc: URL) throws -> [String] {
        let embedded = swiftc.resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("../lib/swift/embedded/armv7-none-none-eabi").standardizedFileURL.path
        return try linkLibraries.map { entry in
            if entry.hasPrefix("-l") { return entry }    // a system library, found by the linker
            let path = entry.replacingOccurrences(of: "{swift-embedded}", with: embedded)
            guard FileManager.default.fileExists(atPath: path) else {
                throw MirageError("the \(name) toolchain links \(path), which is not there",
                                  fix: "install a Swift 6.x toolchain that ships the Embedded stdlib for armv7-none-none-eabi")
            }
            return path
        }
    }

    /// Flags with `{cpu}` and `{float-abi}` filled in for `board`.
    public static func expand(_ flags: [String], for cpu: Board.CPU) -> [String] {
        flags.map {
            $0.replacingOccurrences(of: "{cpu}", with: cpu.core)
                .replacingOccurrences(of: "{float-abi}", with: cpu.floatABI)
        }
    }
}

/// The first executable called `command` on $PATH.
public func findInPath(_ command: String) -> URL? {
    if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? URL(fileURLWithPath: command) : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for folder in path.split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(command)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
}
