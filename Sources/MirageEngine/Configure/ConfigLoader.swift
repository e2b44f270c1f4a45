import Foundation

/// Turns config.swift into a device graph the way SwiftPM turns
/// Package.swift into a package description: compile it against the DSL
/// library (and the DSL part of every device package it imports), run it,
/// read back the JSON it writes into the engine's own model. The result is
/// cached by a hash of config.swift, the DSL's and the packages' sources and
/// the tool version, so an unchanged config does not run swiftc again.
public struct ConfigLoader {
    public let installation: Installation
    /// The unikernel's folder (holding config.swift).
    public let directory: URL
    /// Where the DSL library is compiled once per DSL version.
    let libraryCache: URL

    /// How long config.swift may run before it is stopped (it should take
    /// well under a second): 60 s, or `MIRAGE_CONFIG_TIMEOUT` seconds.
    public var evaluationTimeout: Double = 60
    /// Why `MIRAGE_CONFIG_TIMEOUT` was refused, if it was: reported when config.swift is run.
    let timeoutProblem: String?

    public init(installation: Installation, directory: URL) {
        self.installation = installation
        self.directory = directory
        libraryCache = ToolCache.folder
        var problem: String?
        if let text = ProcessInfo.processInfo.environment[ConfigLoader.timeoutVariable] {
            if let seconds = Double(text), seconds >= 1, seconds <= 3600 {
                evaluationTimeout = seconds
            } else {
                problem = "\(ConfigLoader.timeoutVariable)=\(text) is not a number of seconds from 1 to 3600"
            }
        }
        timeoutProblem = problem
    }

    static let timeoutVariable = "MIRAGE_CONFIG_TIMEOUT"

    /// Makes `folder`, or says which folder cannot be written and how to choose another.
    func makeCacheFolder(_ folder: URL) throws {
        do { try FileManager.default.createFolder(folder) } catch {
            throw MirageError("cannot write the DSL cache folder \(libraryCache.path)",
                              fix: "make it writable, or choose another with XDG_CACHE_HOME=/some/writable/folder")
        }
    }

    public var configFile: URL { directory.appendingPathComponent("config.swift") }
    public var buildDirectory: URL { directory.appendingPathComponent("_build") }

    /// Whether the last `load` ran swiftc (false: answered from the cache).
    public private(set) var evaluated = false

    /// What config.swift declares: its device graph and the device packages it imports.
    public struct Loaded {
        public let graph: ConfigModel.Graph
        public let packages: [DevicePackage]
    }

    /// The device graph of config.swift.
    public mutating func load() throws -> Loaded {
        if let timeoutProblem { throw MirageError(timeoutProblem, fix: "unset it, or give the seconds config.swift may run, such as 60") }
        guard let source = try? Data(contentsOf: configFile) else {
            throw MirageError("no config.swift in \(directory.path)",
                              fix: "run mirage-config in a unikernel's folder (one with config.swift), or pass --directory")
        }
        let packages = try packageImports(in: String(decoding: source, as: UTF8.self))
        let dslHash = try self.dslHash()
        var hash = ContentHash()
        hash.add(source)
        hash.add(dslHash)
        hash.add(Installation.toolVersion)
        var packageHashes: [String] = []
        for package in packages {
            let packageHash = try sourceHash(of: swiftSources(in: package.dslSources), salt: package.name + dslHash)
            packageHashes.append(packageHash)
            hash.add(packageHash)
        }
        let cached = buildDirectory.appendingPathComponent("cache/graph-\(hash.hex).json")
        if let data = try? Data(contentsOf: cached), let graph = try? ConfigModel.Graph.decode(data) {
            evaluated = false
            return Loaded(graph: graph, packages: packages)
        }
        // swiftc keeps its module cache there too: an unwritable one is said here, plainly.
        try makeCacheFolder(libraryCache)
        var libraries = [try builtDSLLibrary() ?? buildLibrary(named: "MirageConfig", sources: installation.dslSourceFiles(),
                                                                hash: dslHash, linking: [])]
        for (package, packageHash) in zip(packages, packageHashes) {
            libraries.append(try buildLibrary(named: package.name, sources: swiftSources(in: package.dslSources),
                                              hash: packageHash, linking: [libraries[0]]))
        }
        let declarations = try DSLDeclarations.read(installation: installation, packages: packages)
        let graph = try evaluate(libraries: libraries, declarations: declarations, output: cached)
        evaluated = true
        return Loaded(graph: graph, packages: packages)
    }

    /// The DSL library's cache key: its sources, the compiler, and the
    /// installation, so that a compile error points at this checkout's DSL sources.
    func dslHash() throws -> String {
        try sourceHash(of: installation.dslSourceFiles(), salt: swiftcVersion() + installation.root.standardizedFileURL.path)
    }

    /// The device packages config.swift imports: `import NAME // package: PATH`,
    /// PATH relative to config.swift's folder.
    public func packageImports(in source: String) throws -> [DevicePackage] {
        var packages: [DevicePackage] = []
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.trimmingCharacters(in: .whitespaces)
            guard words.hasPrefix("import "), let comment = words.range(of: "//") else { continue }
            let remark = words[comment.upperBound...].trimmingCharacters(in: .whitespaces)
            guard remark.hasPrefix("package:") else { continue }
            let module = words[words.index(words.startIndex, offsetBy: 7)..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            let path = remark.dropFirst("package:".count).trimmingCharacters(in: .whitespaces)
            let folder = resolvePath(path, in: directory)
            let package: DevicePackage
            do { package = try DevicePackage.load(from: folder) } catch let error as MirageError {
                throw MirageError("the device package at '\(path)' cannot be used: \(error.message)", at: (displayName, index + 1),
                                  fix: error.fix ?? "give the folder of a device package (one with \(DevicePackage.descriptorName)), relative to config.swift")
            }
            guard package.name == module else {
                throw MirageError("the package at '\(path)' is the module '\(package.name)', not '\(module)'", at: (displayName, index + 1),
                                  fix: "write: import \(package.name) // package: \(path)")
            }
            if !packages.contains(package) { packages.append(package) }
        }
        return packages
    }

    func sourceHash(of files: [URL], salt: String) throws -> String {
        var hash = ContentHash()
        for file in files {
            hash.add(file.lastPathComponent)
            hash.add(try Data(contentsOf: file))
        }
        hash.add(salt)
        return hash.hex
    }

    func swiftc() throws -> URL {
        guard let swiftc = findInPath("swiftc") else {
            throw MirageError("swiftc is not installed; config.swift is compiled with it",
                              fix: "install Swift 6.x and put its usr/bin on PATH")
        }
        return swiftc
    }

    /// What `swiftc --version` prints, kept in the cache keyed by the
    /// compiler's path, size and modification time: running it costs ~100 ms.
    func swiftcVersion() -> String {
        // Keyed by the file the link leads to, but run by its own name: swiftc
        // is a link to swift-driver, which answers --version only as swiftc.
        guard let command = try? swiftc() else { return "unknown" }
        let swiftc = command.resolvingSymlinksInPath()
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: swiftc.path) else { return "unknown" }
        var key = ContentHash()
        key.add(swiftc.path)
        key.add("\((attributes[.size] as? Int) ?? 0) \((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
        let kept = libraryCache.appendingPathComponent("swiftc-version-\(key.hex).txt")
        if let version = try? String(contentsOf: kept, encoding: .utf8), !version.isEmpty { return version }
        guard let result = try? Shell.run(command, ["--version"]), result.status == 0,
              !result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return "unknown" }
        let version = result.output
        if (try? makeCacheFolder(libraryCache)) != nil { try? version.write(to: kept, atomically: true, encoding: .utf8) }
        return version
    }

    /// A compiled DSL module: the folders with its module and its library.
    struct Library {
        let name: String
        let moduleFolder: URL
        let libraryFolder: URL

        init(name: String, folder: URL) {
            self.init(name: name, moduleFolder: folder, libraryFolder: folder)
        }
        init(name: String, moduleFolder: URL, libraryFolder: URL) {
            self.name = name
            self.moduleFolder = moduleFolder
            self.libraryFolder = libraryFolder
        }

        /// The compiler flags that import and link it.
        var flags: [String] {
            ["-I", moduleFolder.path, "-L", libraryFolder.path, "-l\(name)", "-Xlinker", "-rpath", "-Xlinker", libraryFolder.path]
        }
    }

    /// The DSL as `swift build` made it beside the tool (the package's
    /// dynamic library product MirageConfig), when its library is newer than
    /// every DSL source: then configure compiles only config.swift (0.5 s, against 3 s
    /// for the DSL too). Else, as in a checkout whose DSL was edited since its
    /// build, nil: the DSL is compiled into the cache.
    func builtDSLLibrary() throws -> Library? {
        let folder = installation.executable.deletingLastPathComponent()
        let library = folder.appendingPathComponent("libMirageConfig.so")
        let modules = folder.appendingPathComponent("Modules")
        func modified(_ url: URL) -> Date? {
            (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
        }
        // The library is linked again whenever a source changed; the module
        // is rewritten only when its interface did, so its date says nothing.
        guard let built = modified(library), FileManager.default.fileExists(atPath: modules.appendingPathComponent("MirageConfig.swiftmodule").path) else {
            return nil
        }
        let sources = try installation.dslSourceFiles()
        guard let newest = sources.compactMap(modified).max(), newest <= built else { return nil }
        return Library(name: "MirageConfig", moduleFolder: modules, libraryFolder: folder)
    }

    /// Compiles the DSL (or a device package's DSL part) into a shared
    /// library, once per version of its sources.
    func buildLibrary(named name: String, sources: [URL], hash: String, linking: [Library]) throws -> Library {
        let folder = libraryCache.appendingPathComponent("\(name)-\(hash)")
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("lib\(name).so").path) {
            return Library(name: name, folder: folder)
        }
        guard !sources.isEmpty else { throw MirageError("the module \(name) has no Swift sources") }
        let staging = libraryCache.appendingPathComponent("\(name)-\(hash).\(uniqueSuffix)")
        try makeCacheFolder(staging)
        ChildProcesses.temporary(staging)
        defer { ChildProcesses.removeTemporary(staging) }
        let result = try Shell.run(try swiftc(), linking.flatMap(\.flags) + [
            "-emit-library", "-emit-module", "-parse-as-library", "-module-name", name,
            "-emit-module-path", staging.appendingPathComponent("\(name).swiftmodule").path,
            "-o", staging.appendingPathComponent("lib\(name).so").path,
        ] + sources.map(\.path))
        guard result.status == 0 else {
            throw MirageError("cannot compile the DSL module \(name):\n\(result.error)")
        }
        // Another configure may have finished the same library first: theirs is as good.
        if rename(staging.path, folder.path) != 0, !FileManager.default.fileExists(atPath: folder.appendingPathComponent("lib\(name).so").path) {
            throw MirageError("cannot move the DSL module into \(folder.path): \(String(cString: strerror(errno)))")
        }
        return Library(name: name, folder: folder)
    }

    /// Compiles config.swift against the libraries and runs it.
    func evaluate(libraries: [Library], declarations: DSLDeclarations, output: URL) throws -> ConfigModel.Graph {
        let work = buildDirectory.appendingPathComponent("cache")
        try FileManager.default.createFolder(work)
        // Names of this process's own, so that two configures at once do not collide.
        let program = work.appendingPathComponent("evaluate-config.\(uniqueSuffix)")
        ChildProcesses.temporary(program)
        defer { ChildProcesses.removeTemporary(program) }
        let compile = try Shell.run(try swiftc(), libraries.flatMap(\.flags) + [
            "-module-name", "UnikernelConfig",
            configFile.path, "-o", program.path,
        ], in: directory)
        guard compile.status == 0 else {
            let log = compile.error + compile.output
            throw MirageError("config.swift does not compile:\n" + compilerErrors(log),
                              fix: log.contains("no such module") ? "import a device package with the folder it is in: import NAME // package: PATH" : nil)
        }
        let temporary = output.appendingPathExtension(uniqueSuffix)
        ChildProcesses.temporary(temporary)
        defer { ChildProcesses.removeTemporary(temporary) }
        let constructors = declarations.types.map { type in
            declarations.constructors(fitting: type.name).map { "\(type.name)\t\($0.name)" }.joined(separator: "\n")
        }.filter { !$0.isEmpty }.joined(separator: "\n")
        // No backtrace: a failed check in config.swift is reported as its file, line and message.
        let run = try Shell.run(program, [], in: directory, environment: [ConfigModel.outputVariable: temporary.path,
                                                                          ConfigModel.constructorsVariable: constructors,
                                                                          "SWIFT_BACKTRACE": "enable=no"],
                                timeout: evaluationTimeout)
        if run.timedOut {
            throw MirageError("config.swift ran for \(Int(evaluationTimeout)) s without finishing, and was stopped", at: (displayName, 1),
                              fix: "config.swift only declares devices: look for a loop that never ends")
        }
        guard run.status == 0 else {
            let text = run.error.isEmpty ? run.output : run.error
            if let trap = ConfigLoader.trapped(text) {
                throw MirageError("config.swift stopped: \(trap.message)", at: (displayName, trap.line),
                                  fix: "config.swift runs when it is configured: a fatalError, a failed precondition or a nil unwrapped (!) there stops it")
            }
            throw MirageError("config.swift is not a valid configuration:\n" + relativize(text).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let data = try? Data(contentsOf: temporary) else {
            throw MirageError("config.swift never calls register(...)", at: (displayName, 1),
                              fix: "end it with register(\"NAME\", main(devices...))")
        }
        let graph = try ConfigModel.Graph.decode(data)
        guard rename(temporary.path, output.path) == 0 else {
            throw MirageError("cannot write \(output.path): \(String(cString: strerror(errno)))")
        }
        return graph
    }

    var displayName: String { displayPath(configFile.path) }

    /// The line and message of a Swift runtime trap in config.swift
    /// ("UnikernelConfig/config.swift:4: Fatal error: ..."), if that is why it stopped.
    static func trapped(_ text: String) -> (line: Int, message: String)? {
        for line in text.split(separator: "\n") {
            guard let marker = line.range(of: ": Fatal error: ") else { continue }
            let place = line[..<marker.lowerBound]
            guard place.hasSuffix(".swift") || place.contains(".swift:"), let number = place.split(separator: ":").last.flatMap({ Int($0) }) else {
                continue
            }
            return (number, String(line[marker.upperBound...]))
        }
        return nil
    }

    /// Unique to this process and call, for temporary names beside shared files.
    var uniqueSuffix: String { "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))" }

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
