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

    enum CodingKeys: String, CodingKey {
        case name, description, tools
        case swiftFlags = "swift-flags"
        case cFlags = "c-flags"
        case asmFlags = "asm-flags"
        case linkFlags = "link-flags"
        case linkLibraries = "link-libraries"
    }

    public struct Tool: Codable {
        public let command: String
        /// Look first in the folder of this other tool (clang beside swiftc).
        public let beside: String?
        /// One line telling how to install it.
        public let install: String
    }

    /// The roles every toolchain fills.
    public static let roles = ["swiftc", "cc", "ld", "objcopy"]

    public static let defaultName = "llvm"

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
        for role in Toolchain.roles {
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
            let path = entry.replacingOccurrences(of: "{swift-embedded}", with: embedded)
            guard FileManager.default.fileExists(atPath: path) else {
                throw MirageError("the \(name) toolchain links \(path), which is not there",
                                  fix: "install a Swift 6.x toolchain that ships the Embedded stdlib for armv7-none-none-eabi")
            }
            return path
        }
    }

    /// Flags with `{cpu}` and `{float-abi}` filled in for `board`.
    public static func expand(_ flags: [String], for board: Board) -> [String] {
        flags.map {
            $0.replacingOccurrences(of: "{cpu}", with: board.cpu.core)
                .replacingOccurrences(of: "{float-abi}", with: board.cpu.floatABI)
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
