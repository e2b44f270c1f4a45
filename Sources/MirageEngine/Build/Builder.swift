import Foundation

/// Cross-compiles a configured unikernel into dist/NAME.elf and dist/NAME.bin:
/// the runtime and the chosen drivers as one Embedded Swift module, kept in
/// the cache (`RuntimeModule`), the glue and the unikernel's sources as
/// another (or all of it as one with `configure --whole-image`); the start
/// code and C support; a link with the generated script. A failed build leaves the last
/// good image in place: outputs are written beside it and renamed at the end.
public struct Builder {
    public let workspace: Workspace
    /// Called with each step, for the CLI to print.
    public var log: (String) -> Void = { _ in }
    /// Where compiled runtimes are kept (`RuntimeModule`): the tool's cache.
    public var cacheFolder = ToolCache.folder

    public init(workspace: Workspace) { self.workspace = workspace }

    public struct Result {
        /// The ELF: a board image, or the host target's program.
        public let image: URL
        /// The raw image for boot loaders; nil for a host program.
        public let rawImage: URL?
        public let sections: [ElfSection]
        public let board: Board
        /// Which part of the image takes the space.
        public let sizeByPart: SizeByPart
    }

    /// Where a failed build leaves its error, so `run` can say that it boots the last good image.
    var failureFile: URL { workspace.buildDirectory.appendingPathComponent("last-build-failed.txt") }

    /// The first line of the last build's error, if the last build failed.
    public func lastFailure() -> String? {
        (try? String(contentsOf: failureFile, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
    }

    /// Builds the image; a failure is remembered (`lastFailure`) so that
    /// `run` can say it boots the last good image. A folder that is not
    /// configured has no build to fail, and gets nothing written.
    public func build() throws -> Result {
        let configuration = try workspace.configured()
        do {
            let result = try buildImage(configuration)
            try? FileManager.default.removeItem(at: failureFile)
            return result
        } catch {
            _ = try? writeIfChanged("\(error)\n", to: failureFile)
            throw error
        }
    }

    func buildImage(_ configuration: ResolvedConfiguration) throws -> Result {
        let board = configuration.boardDescription
        guard let toolchain = configuration.toolchainDescription else {
            throw MirageError("\(displayPath(workspace.configurationFile.path)) names no toolchain", fix: "run mirage-config configure again")
        }
        let tools = try toolchain.resolveTools()
        guard let ninja = findInPath("ninja") else {
            throw MirageError("ninja is not installed; the build runs through it", fix: "apt-get install ninja-build (or run scripts/setup)")
        }
        let drivers = configuration.driverCatalog
        // The drivers the devices name, with the libraries they use.
        let used = configuration.drivers
        var plan = try plan(configuration, board: board, toolchain: toolchain, tools: tools, drivers: used)
        let embedded = try EmbeddedData.folders(configuration, drivers: drivers, installation: workspace.installation, base: workspace.directory, cache: cacheFolder)
        if !embedded.isEmpty {
            let assembly = workspace.buildDirectory.appendingPathComponent(EmbeddedData.assemblyName)
            plan.embeddedArchives = try EmbeddedData.prepare(embedded, in: workspace.buildDirectory.appendingPathComponent("embedded"),
                                                             assembly: assembly, seenFrom: workspace.buildDirectory, within: workspace.directory,
                                                             installation: workspace.installation, cache: cacheFolder, forProcess: board.isProcess)
            plan.nativeSources.append(assembly)
        }
        if !plan.runtimeSources.isEmpty {
            plan.runtimeModule = try RuntimeModule.prepare(swiftc: plan.tools.swiftc, flags: plan.swiftFlags, sources: plan.runtimeSources,
                                                           cache: cacheFolder) {
                log("swiftc  \(plan.runtimeSources.count) files (the runtime and drivers, kept in the cache for the next build)")
            }
        }
        try FileManager.default.createFolder(plan.objects)
        try FileManager.default.createFolder(workspace.distDirectory)
        // The manifest, as an ELF note that `inspect` reads back (not loaded, not in the .bin).
        try writeIfChanged(ManifestNote.assembly(manifest: workspace.manifestFile,
                                                 path: path(of: workspace.manifestFile, from: workspace.buildDirectory, within: workspace.directory)),
                           to: plan.manifestNote)
        if plan.compilesIncrementally {
            try FileManager.default.createFolder(plan.objects.appendingPathComponent("swift"))
            try writeIfChanged(plan.swiftOutputMapText, to: plan.swiftOutputMap)
        }
        if case .program(let deviceTree, let assembly) = plan.output {
            try writeIfChanged(Builder.deviceTreeAssembly(path(of: deviceTree, from: workspace.buildDirectory, within: workspace.directory)),
                               to: assembly)
        }
        let ninjaFile = workspace.buildDirectory.appendingPathComponent("build.ninja")
        try writeIfChanged(plan.text, to: ninjaFile)

        let result = try Shell.run(ninja, ["-f", ninjaFile.path], in: workspace.buildDirectory) { output in
            for line in String(decoding: output, as: UTF8.self).split(separator: "\n") where line.hasPrefix("[") {
                log(String(line.drop { $0 != "]" }.dropFirst().drop { $0 == " " }))
            }
        }
        guard result.status == 0 else {
            throw failure(result.output + result.error, configuration: configuration)
        }
        // Into dist/ only now, and only what changed: a failed build leaves the last good image.
        let image = workspace.image(configuration.name)
        var rawImage: URL?
        switch plan.output {
        case .image(_, let raw, _):
            try publish(plan.image, as: image)
            rawImage = workspace.rawImage(configuration.name)
            try publish(raw, as: rawImage!)
        case .program:
            try publish(plan.image, as: image, executable: true)
        }
        let sizes = try SizeByPart(symbols: try ElfImage.sizedSymbols(of: image), job: configuration.job, drivers: used)
        return Result(image: image, rawImage: rawImage, sections: try ElfImage.sections(of: image), board: board, sizeByPart: sizes)
    }

    /// The host program's device tree, carried in the program for main.c
    /// (Sources/Boot/StartHost) to boot with: `path` as the assembler, run in the build folder, reads it.
    static func deviceTreeAssembly(_ path: String) -> String {
        """
        /* The device tree the host program boots with; generated by mirage-config build. */
            .section .rodata.mirage_device_tree, "a"
            .balign 8
            .global mirage_device_tree
        mirage_device_tree:
            .incbin "\(EmbeddedData.assemblyString(path))"
            .section .note.GNU-stack, "", %progbits

        """
    }

    /// What to compile and link, with which tools and flags.
    func plan(_ configuration: ResolvedConfiguration, board: Board, toolchain: Toolchain, tools: [String: URL],
              drivers: [Driver]) throws -> BuildPlan {
        // Swift: runtime + chosen drivers (and the libraries they use) + glue
        // + the unikernel, one module; the drivers' C files beside the start code.
        let boot = workspace.installation.bootSources
        var driverFiles: [URL] = []
        for driver in drivers { driverFiles += try driver.sourceFiles() }
        let unikernelSources = try swiftSources(in: workspace.directory).filter { $0.lastPathComponent != "config.swift" }
        guard !unikernelSources.isEmpty else {
            throw MirageError("no Swift sources beside config.swift in \(displayPath(workspace.directory.path))",
                              fix: "write the job '\(configuration.job)' in a file such as unikernel.swift")
        }
        let coreFiles = try workspace.installation.runtimeSourceFiles()
            + configuration.packages.flatMap { try swiftSources(in: $0.runtimeSources) }
        let runtimeFiles = coreFiles + driverFiles.filter { $0.pathExtension == "swift" }
        let jobFiles = [workspace.glueFile] + unikernelSources
        let output = workspace.buildDirectory.appendingPathComponent("image")
        guard let cpu = board.cpu else {
            return try processPlan(configuration, toolchain: toolchain, tools: tools, swiftFiles: runtimeFiles + jobFiles,
                                   nativeSources: driverFiles.filter { $0.pathExtension == "c" }, output: output)
        }
        // The runtime and drivers as a module of their own, kept in the cache; or everything as one.
        let wholeImage = configuration.wholeImage
        // The module in the cache holds every driver of the board, so that
        // every configuration of the board shares it.
        var boardRuntimeFiles = coreFiles
        if !wholeImage {
            for driver in configuration.runtimeDrivers { boardRuntimeFiles += try driver.sourceFiles().filter { $0.pathExtension == "swift" } }
        }
        let startFiles = try sourceFiles(in: boot.appendingPathComponent("Start"), withExtensions: ["S", "c"])
        return BuildPlan(
            tools: BuildPlan.Tools(swiftc: tools["swiftc"]!, cc: tools["cc"]!, ld: tools["ld"]!, objcopy: tools["objcopy"]),
            swiftFlags: [
                "-target", "armv7-none-none-eabi",
                "-enable-experimental-feature", "Embedded", "-enable-experimental-feature", "Extern",
                "-wmo", "-Osize", "-parse-as-library",
                "-Xcc", "-mcpu=\(cpu.core)", "-Xcc", "-mfloat-abi=\(cpu.floatABI)",
                // Thumb-2: a third smaller than ARM code. start.S and the
                // semihosting call stay ARM; the linker joins the two.
                "-Xcc", "-mthumb",
                // A frame record (r7 and lr) in every function, so that `run
                // --profile` can walk the stack of each sample.
                "-Xcc", "-fno-omit-frame-pointer",
                "-Xfrontend", "-function-sections",
                // Failed checks name Module/file.swift:line, never a folder of this machine.
                "-assert-config", configuration.assertConfig.swiftcValue, "-enable-upcoming-feature", "ConciseMagicFile",
            ] + toolchain.swiftFlags,
            swiftSources: wholeImage ? runtimeFiles + jobFiles : jobFiles,
            runtimeSources: wholeImage ? [] : boardRuntimeFiles,
            cFlags: Toolchain.expand(toolchain.cFlags, for: cpu) + ["-fno-omit-frame-pointer"],
            asmFlags: Toolchain.expand(toolchain.asmFlags, for: cpu),
            nativeSources: startFiles + driverFiles.filter { $0.pathExtension == "c" },
            linkFlags: toolchain.linkFlags,
            libraries: try toolchain.libraries(swiftc: tools["swiftc"]!),
            output: .image(linkerScript: workspace.linkerScript, rawImage: output.appendingPathComponent("\(configuration.name).bin"),
                           map: workspace.buildDirectory.appendingPathComponent("\(configuration.name).map")),
            manifest: workspace.manifestFile,
            manifestNote: workspace.buildDirectory.appendingPathComponent("manifest-note.S"),
            objects: workspace.buildDirectory.appendingPathComponent("obj"),
            image: output.appendingPathComponent("\(configuration.name).elf"),
            buildDirectory: workspace.buildDirectory, unikernelDirectory: workspace.directory)
    }

    /// The host target's build: the same Swift (runtime, the host drivers,
    /// glue, the job) as one module for the machine the tool runs on, with
    /// the Swift runtime and standard library, and Sources/Boot/StartHost
    /// (host.c, main.c) in place of Start/; linked as a program.
    func processPlan(_ configuration: ResolvedConfiguration, toolchain: Toolchain, tools: [String: URL], swiftFiles: [URL],
                     nativeSources: [URL], output: URL) throws -> BuildPlan {
        let startFiles = try sourceFiles(in: workspace.installation.bootSources.appendingPathComponent("StartHost"), withExtensions: ["c"])
        // swiftc instruments Swift for AddressSanitizer only; UndefinedBehaviorSanitizer is for the C parts (Swift checks its own).
        let sanitizeSwift = configuration.sanitizer == .address ? ["-sanitize=address"] : []
        let sanitizeLink = configuration.sanitizer.map { $0 == .address ? ["-sanitize=address"] : ["-Xclang-linker", "-fsanitize=\($0.rawValue)"] } ?? []
        return BuildPlan(
            tools: BuildPlan.Tools(swiftc: tools["swiftc"]!, cc: tools["cc"]!, ld: tools["ld"]!, objcopy: nil),
            swiftFlags: [
                "-enable-experimental-feature", "Extern", "-enable-experimental-feature", "Volatile",
                "-parse-as-library", "-j", String(ProcessInfo.processInfo.activeProcessorCount),
                "-assert-config", configuration.assertConfig.swiftcValue, "-enable-upcoming-feature", "ConciseMagicFile",
            ] + toolchain.swiftFlags + sanitizeSwift,
            swiftSources: swiftFiles,
            runtimeSources: [],
            cFlags: toolchain.cFlags + (configuration.sanitizer.map { ["-fsanitize=\($0.rawValue)"] } ?? []),
            asmFlags: toolchain.asmFlags,
            nativeSources: startFiles + nativeSources,
            linkFlags: toolchain.linkFlags + sanitizeLink,
            libraries: try toolchain.libraries(swiftc: tools["swiftc"]!),
            output: .program(deviceTree: workspace.deviceTreeBlob,
                             deviceTreeAssembly: workspace.buildDirectory.appendingPathComponent("device-tree.S")),
            manifest: workspace.manifestFile,
            manifestNote: workspace.buildDirectory.appendingPathComponent("manifest-note.S"),
            objects: workspace.buildDirectory.appendingPathComponent("obj"),
            image: output.appendingPathComponent("\(configuration.name).elf"),
            buildDirectory: workspace.buildDirectory, unikernelDirectory: workspace.directory)
    }

    /// Copies a built file into dist/ atomically, and only when its bytes
    /// changed; `executable`: a program, mode 0755.
    func publish(_ built: URL, as target: URL, executable: Bool = false) throws {
        let data = try Data(contentsOf: built)
        if let existing = try? Data(contentsOf: target), existing == data { return }
        let staging = target.appendingPathExtension("new-\(ProcessInfo.processInfo.processIdentifier)")
        try data.write(to: staging)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: staging.path) }
        try replace(target, with: staging)
    }

    /// Ninja's report of a failed step, as the compiler's own words with the
    /// unikernel's paths as a person types them.
    func failure(_ output: String, configuration: ResolvedConfiguration) -> MirageError {
        var step = "a step"
        var kept: [Substring] = []
        var skipCommand = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("FAILED: ") {
                step = String(line.dropFirst("FAILED: ".count))
                skipCommand = true          // the next line is the command itself
            } else if skipCommand {
                skipCommand = false
            } else if !line.hasPrefix("[") && !line.hasPrefix("ninja: ") {
                kept.append(line)
            }
        }
        let text = kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let what = step.hasSuffix("unikernel.o") ? "Swift sources" : step.hasSuffix(".elf") ? "link" : (step as NSString).lastPathComponent
        // A symbol some driver defines, missing because the configuration lacks that driver: its fix.
        return MirageError("building \(what) failed; the last good image is untouched:\n" + relativize(text),
                           fix: configuration.fix(forMissingSymbolIn: text))
    }

    /// rename(2): atomic, and replaces an existing file.
    func replace(_ target: URL, with new: URL) throws {
        guard rename(new.path, target.path) == 0 else {
            throw MirageError("cannot move \(new.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Compiler output with the unikernel's paths as the person would type them.
    func relativize(_ text: String) -> String {
        let folder = workspace.directory.path
        let shown = folder == FileManager.default.currentDirectoryPath ? "" : displayPath(folder) + "/"
        return text.replacingOccurrences(of: folder + "/", with: shown)
    }

    /// A Zephyr-style report: each memory region's use, then each section.
    public static func sizeReport(_ result: Result) -> String {
        guard let memory = result.board.memory else { return processSizeReport(result) }
        let layout = MemoryLayout(memory: memory)
        let loaded = result.sections.filter { $0.isAllocated && $0.address >= memory.load && $0.address < layout.dma.base }
        let ramUsed = loaded.map { $0.address + $0.size }.max().map { $0 - memory.load } ?? 0
        let ramSize = layout.dma.base - memory.load
        let raw = result.rawImage ?? result.image
        let imageBytes = (try? FileManager.default.attributesOfItem(atPath: raw.path)[.size] as? UInt64) ?? 0
        func percent(_ used: UInt64, _ total: UInt64) -> String { String(format: "%.2f%%", Double(used) * 100 / Double(max(total, 1))) }
        func left(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var text = left("Memory region", 16) + right("Used Size", 12) + right("Region Size", 14) + right("%age Used", 11) + "\n"
        text += left("RAM:", 16) + right("\(ramUsed) B", 12) + right("\(ramSize) B", 14) + right(percent(ramUsed, ramSize), 11) + "\n"
        text += left("DTB:", 16) + right("-", 12) + right("\(memory.reserved("dtb")?.size ?? 0) B", 14) + right("", 11) + "\n"
        text += left("DMA:", 16) + right("\(layout.dma.size) B", 12) + right("\(layout.dma.size) B", 14) + right("reserved", 11) + "\n"
        text += "\n" + left("Section", 16) + left("Address", 12) + right("Size", 10) + "\n"
        for section in result.sections where section.isAllocated {
            text += left(section.name, 16) + left("0x" + String(section.address, radix: 16), 12) + right("\(section.size)", 10)
                + (section.isLoaded ? "" : "  (not in image)") + "\n"
        }
        text += "\n" + result.sizeByPart.text
        text += "\nImage: \(displayPath(result.image.path)), raw \(displayPath(raw.path)) \(imageBytes) bytes\n"
        return text
    }

    /// For the host target: the program's sections and its parts (the Swift
    /// runtime and libc are shared libraries, not in it).
    static func processSizeReport(_ result: Result) -> String {
        func left(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: result.image.path)[.size] as? UInt64) ?? 0
        var text = left("Section", 24) + right("Size", 10) + "\n"
        for section in result.sections where section.isAllocated && section.size > 0 {
            text += left(section.name, 24) + right("\(section.size)", 10) + "\n"
        }
        text += "\n" + result.sizeByPart.text
        text += "\nProgram: \(displayPath(result.image.path)), \(bytes) bytes with its debug information\n"
        return text
    }
}
