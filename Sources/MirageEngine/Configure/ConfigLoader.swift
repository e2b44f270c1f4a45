import Foundation
import MirageConfig

/// Turns config.swift into a device graph the way SwiftPM turns
/// Package.swift into a package description: compile it against the DSL
/// library, run it, read back the JSON it writes. The result is cached by a
/// hash of config.swift, the DSL's sources and the tool version, so an
/// unchanged config does not run swiftc again.
public struct ConfigLoader {
    public let installation: Installation
    /// The unikernel's folder (holding config.swift).
    public let directory: URL
    /// Where the DSL library is compiled once per DSL version.
    let libraryCache: URL

    public init(installation: Installation, directory: URL) {
        self.installation = installation
        self.directory = directory
        let base = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        libraryCache = base.appendingPathComponent("mirage-config")
    }

    public var configFile: URL { directory.appendingPathComponent("config.swift") }
    public var buildDirectory: URL { directory.appendingPathComponent("_build") }

    /// Whether the last `load` ran swiftc (false: answered from the cache).
    public private(set) var evaluated = false

    /// The device graph of config.swift.
    public mutating func load() throws -> ConfigurationGraph {
        guard let source = try? Data(contentsOf: configFile) else {
            throw MirageError("no config.swift in \(directory.path)",
                              fix: "run mirage-config in a unikernel's folder (one with config.swift), or pass --directory")
        }
        let dslHash = try dslSourceHash()
        var hash = ContentHash()
        hash.add(source)
        hash.add(dslHash)
        hash.add(Installation.toolVersion)
        let cached = buildDirectory.appendingPathComponent("cache/graph-\(hash.hex).json")
        if let data = try? Data(contentsOf: cached), let graph = try? JSONDecoder().decode(ConfigurationGraph.self, from: data) {
            evaluated = false
            return graph
        }
        let library = try buildLibrary(dslHash: dslHash)
        let graph = try evaluate(library: library, output: cached)
        evaluated = true
        return graph
    }

    func dslSourceHash() throws -> String {
        var hash = ContentHash()
        for file in try dslSourceFiles() { hash.add(try Data(contentsOf: file)) }
        hash.add(swiftcVersion())
        return hash.hex
    }

    func dslSourceFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: installation.dslSources, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "swift" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func swiftc() throws -> URL {
        guard let swiftc = findInPath("swiftc") else {
            throw MirageError("swiftc is not installed; config.swift is compiled with it",
                              fix: "install Swift 6.x and put its usr/bin on PATH")
        }
        return swiftc
    }

    func swiftcVersion() -> String {
        (try? Shell.run(swiftc(), ["--version"]).output) ?? "unknown"
    }

    /// Compiles Sources/MirageConfig into a shared library, once per version.
    func buildLibrary(dslHash: String) throws -> URL {
        let folder = libraryCache.appendingPathComponent("dsl-\(dslHash)")
        let library = folder.appendingPathComponent("libMirageConfig.so")
        if FileManager.default.fileExists(atPath: library.path) { return folder }
        let staging = libraryCache.appendingPathComponent("dsl-\(dslHash).\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createFolder(staging)
        let result = try Shell.run(try swiftc(), [
            "-emit-library", "-emit-module", "-parse-as-library", "-module-name", "MirageConfig",
            "-emit-module-path", staging.appendingPathComponent("MirageConfig.swiftmodule").path,
            "-o", staging.appendingPathComponent("libMirageConfig.so").path,
        ] + (try dslSourceFiles()).map(\.path))
        guard result.status == 0 else {
            throw MirageError("cannot compile the MirageConfig DSL library:\n\(result.error)")
        }
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.moveItem(at: staging, to: folder)
        return folder
    }

    /// Compiles config.swift against the library and runs it.
    func evaluate(library: URL, output: URL) throws -> ConfigurationGraph {
        let work = buildDirectory.appendingPathComponent("cache")
        try FileManager.default.createFolder(work)
        let program = work.appendingPathComponent("evaluate-config")
        let compile = try Shell.run(try swiftc(), [
            "-I", library.path, "-L", library.path, "-lMirageConfig",
            "-Xlinker", "-rpath", "-Xlinker", library.path,
            "-module-name", "UnikernelConfig",
            configFile.path, "-o", program.path,
        ], in: directory)
        guard compile.status == 0 else {
            throw MirageError("config.swift does not compile:\n" + compilerErrors(compile.error + compile.output))
        }
        let temporary = output.appendingPathExtension("tmp")
        try? FileManager.default.removeItem(at: temporary)
        let run = try Shell.run(program, [], in: directory,
                                environment: [ConfigurationGraph.outputVariable: temporary.path])
        guard run.status == 0 else {
            let text = run.error.isEmpty ? run.output : run.error
            throw MirageError("config.swift is not a valid configuration:\n" + relativize(text).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let data = try? Data(contentsOf: temporary) else {
            throw MirageError("config.swift never calls register(...)", at: (displayName, 1),
                              fix: "end it with register(\"NAME\", main(devices...))")
        }
        let graph: ConfigurationGraph
        do { graph = try JSONDecoder().decode(ConfigurationGraph.self, from: data) } catch {
            throw MirageError("cannot read the device graph config.swift wrote: \(error)")
        }
        try? FileManager.default.removeItem(at: output)
        try FileManager.default.moveItem(at: temporary, to: output)
        return graph
    }

    var displayName: String { displayPath(configFile.path) }

    /// The compiler's diagnostics for config.swift, with their own file:line,
    /// without the driver's noise.
    func compilerErrors(_ log: String) -> String {
        let lines = relativize(log).split(separator: "\n", omittingEmptySubsequences: false)
        let kept = lines.filter { !$0.hasPrefix("error: fatalError") && !$0.contains("emit-module command failed") }
        return kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func relativize(_ text: String) -> String {
        text.replacingOccurrences(of: configFile.path, with: displayName)
    }
}

/// `path` relative to the current folder when it is inside it.
public func displayPath(_ path: String, relativeTo base: String = FileManager.default.currentDirectoryPath) -> String {
    if path.hasPrefix(base + "/") { return String(path.dropFirst(base.count + 1)) }
    return path
}
