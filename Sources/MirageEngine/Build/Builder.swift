import Foundation

/// Cross-compiles a configured unikernel into dist/NAME.elf and dist/NAME.bin:
/// one whole-module Embedded Swift compile of the runtime, the chosen
/// drivers, the glue and the unikernel's sources; the start code and C
/// support; a link with the generated script. A failed build leaves the last
/// good image in place: outputs are written beside it and renamed at the end.
public struct Builder {
    public let workspace: Workspace
    /// Called with each step, for the CLI to print.
    public var log: (String) -> Void = { _ in }

    public init(workspace: Workspace) { self.workspace = workspace }

    public struct Result {
        public let image: URL
        public let rawImage: URL
        public let sections: [ElfSection]
        public let board: Board
    }

    /// Where a failed build leaves its error, so `run` can say that it boots the last good image.
    var failureFile: URL { workspace.buildDirectory.appendingPathComponent("last-build-failed.txt") }

    /// The first line of the last build's error, if the last build failed.
    public func lastFailure() -> String? {
        (try? String(contentsOf: failureFile, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
    }

    public func build() throws -> Result {
        do {
            let result = try buildImage()
            try? FileManager.default.removeItem(at: failureFile)
            return result
        } catch {
            _ = try? writeIfChanged("\(error)\n", to: failureFile)
            throw error
        }
    }

    func buildImage() throws -> Result {
        let configuration = try workspace.configured()
        let installation = workspace.installation
        let board = try Board.load(configuration.board, from: installation)
        let toolchain = try Toolchain.load(configuration.toolchain, from: installation)
        let tools = try toolchain.resolveTools()
        let objects = workspace.buildDirectory.appendingPathComponent("obj")
        try FileManager.default.createFolder(objects)
        try FileManager.default.createFolder(workspace.distDirectory)

        // Swift: runtime + chosen drivers (and the libraries they use) + glue
        // + the unikernel, one module; the drivers' C files beside the start code.
        let boot = installation.bootSources
        let drivers = try DriverCatalog(installation: installation, packages: configuration.packages)
        var driverFiles: [URL] = []
        for driver in try drivers.closure(of: configuration.devices.map(\.driver)) { driverFiles += try driver.sourceFiles() }
        var swiftFiles = try swiftSources(in: boot.appendingPathComponent("Core"))
            + swiftSources(in: boot.appendingPathComponent("Runtime"))
            + driverFiles.filter { $0.pathExtension == "swift" }
        let unikernelSources = try swiftSources(in: workspace.directory).filter { $0.lastPathComponent != "config.swift" }
        guard !unikernelSources.isEmpty else {
            throw MirageError("no Swift sources beside config.swift in \(displayPath(workspace.directory.path))",
                              fix: "write the job '\(configuration.job)' in a file such as unikernel.swift")
        }
        swiftFiles += [workspace.glueFile] + unikernelSources
        let swiftObject = objects.appendingPathComponent("unikernel.o")
        log("swiftc  \(swiftFiles.count) files (\(unikernelSources.map(\.lastPathComponent).joined(separator: ", ")) + runtime)")
        try run(tools["swiftc"]!, [
            "-target", "armv7-none-none-eabi",
            "-enable-experimental-feature", "Embedded", "-enable-experimental-feature", "Extern",
            "-wmo", "-Osize", "-parse-as-library", "-module-name", "Unikernel",
            "-Xcc", "-mcpu=\(board.cpu.core)", "-Xcc", "-mfloat-abi=\(board.cpu.floatABI)",
            "-Xfrontend", "-function-sections",
            // Failed checks name Module/file.swift:line, never a folder of this machine.
            "-assert-config", configuration.assertConfig.swiftcValue, "-enable-upcoming-feature", "ConciseMagicFile",
            "-c", "-o", swiftObject.path,
        ] + swiftFiles.map(\.path), what: "Swift sources", drivers: drivers)

        // Start code and C support.
        var linkInputs = [URL]()
        let start = boot.appendingPathComponent("Start")
        let startFiles = try FileManager.default.contentsOfDirectory(at: start, includingPropertiesForKeys: nil).sorted(by: { $0.path < $1.path })
        for file in startFiles + driverFiles.filter({ $0.pathExtension == "c" }) {
            let flags: [String]
            switch file.pathExtension {
            case "S": flags = Toolchain.expand(toolchain.asmFlags, for: board)
            case "c": flags = Toolchain.expand(toolchain.cFlags, for: board)
            default: continue
            }
            let object = objects.appendingPathComponent(file.lastPathComponent + ".o")
            log("cc      \(file.lastPathComponent)")
            try run(tools["cc"]!, flags + ["-c", file.path, "-o", object.path], what: file.lastPathComponent, drivers: drivers)
            linkInputs.append(object)
        }
        linkInputs.append(swiftObject)

        // The manifest, as an ELF note that `inspect` reads back (not loaded, not in the .bin).
        let note = workspace.buildDirectory.appendingPathComponent("manifest-note.S")
        try writeIfChanged(ManifestNote.assembly(manifest: workspace.manifestFile), to: note)
        let noteObject = objects.appendingPathComponent("manifest-note.o")
        try run(tools["cc"]!, Toolchain.expand(toolchain.asmFlags, for: board) + ["-c", note.path, "-o", noteObject.path],
                what: "manifest note", drivers: drivers)
        linkInputs.append(noteObject)

        // Link and convert; rename into place only when everything worked.
        let image = workspace.image(configuration.name)
        let rawImage = workspace.rawImage(configuration.name)
        let newImage = image.appendingPathExtension("new")
        let newRaw = rawImage.appendingPathExtension("new")
        defer {
            try? FileManager.default.removeItem(at: newImage)
            try? FileManager.default.removeItem(at: newRaw)
        }
        log("ld      \(displayPath(image.path))")
        try run(tools["ld"]!, toolchain.linkFlags + [
            "-T", workspace.linkerScript.path,
            "-Map", workspace.buildDirectory.appendingPathComponent("\(configuration.name).map").path,
            "-o", newImage.path,
        ] + linkInputs.map(\.path) + toolchain.libraries(swiftc: tools["swiftc"]!), what: "link", drivers: drivers)
        log("objcopy \(displayPath(rawImage.path))")
        try run(tools["objcopy"]!, ["-O", "binary", newImage.path, newRaw.path], what: "raw image", drivers: drivers)
        let sections = try ElfImage.sections(of: newImage)
        try replace(image, with: newImage)
        try replace(rawImage, with: newRaw)
        return Result(image: image, rawImage: rawImage, sections: sections, board: board)
    }

    /// rename(2): atomic, and replaces an existing file.
    func replace(_ target: URL, with new: URL) throws {
        guard rename(new.path, target.path) == 0 else {
            throw MirageError("cannot move \(new.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
    }

    func swiftSources(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "swift" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func run(_ tool: URL, _ arguments: [String], what: String, drivers: DriverCatalog) throws {
        let result = try Shell.run(tool, arguments, in: workspace.directory)
        guard result.status == 0 else {
            let output = (result.error + result.output).trimmingCharacters(in: .whitespacesAndNewlines)
            // A symbol some driver defines, missing because the configuration lacks that driver: its fix.
            let fix = drivers.drivers.lazy.flatMap { $0.symbols.keys }.first { output.contains($0) }
                .flatMap { drivers.provider(ofSymbol: $0)?.fix }
            throw MirageError("building \(what) failed (\(tool.lastPathComponent)); the last good image is untouched:\n"
                              + relativize(output), fix: fix)
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
        let memory = result.board.memory
        let layout = MemoryLayout(board: result.board)
        let loaded = result.sections.filter { $0.isAllocated && $0.address >= memory.load && $0.address < layout.dma.base }
        let ramUsed = loaded.map { $0.address + $0.size }.max().map { $0 - memory.load } ?? 0
        let ramSize = layout.dma.base - memory.load
        let imageBytes = (try? FileManager.default.attributesOfItem(atPath: result.rawImage.path)[.size] as? UInt64) ?? 0
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
        text += "\nImage: \(displayPath(result.image.path)), raw \(displayPath(result.rawImage.path)) \(imageBytes) bytes\n"
        return text
    }
}
