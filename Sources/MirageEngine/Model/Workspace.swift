import Foundation

/// A unikernel's folder and where the tool writes for it: generated files
/// in `_build/`, images in `dist/`. Boot tests use a folder per board.
public struct Workspace {
    public let installation: Installation
    /// The folder with config.swift and the unikernel's sources.
    public let directory: URL
    /// Generated files: linker script, device tree, glue, manifest, objects.
    public let buildDirectory: URL
    /// Images: NAME.elf and NAME.bin.
    public let distDirectory: URL

    public init(installation: Installation, directory: URL, buildDirectory: URL? = nil, distDirectory: URL? = nil) {
        self.installation = installation
        self.directory = directory.standardizedFileURL
        self.buildDirectory = buildDirectory ?? self.directory.appendingPathComponent("_build")
        self.distDirectory = distDirectory ?? self.directory.appendingPathComponent("dist")
    }

    // The generated files, all in one folder that `clean` removes.
    public var configurationFile: URL { buildDirectory.appendingPathComponent("configuration.json") }
    public var manifestFile: URL { buildDirectory.appendingPathComponent("manifest.json") }
    public var linkerScript: URL { buildDirectory.appendingPathComponent("linker.ld") }
    public var deviceTreeSource: URL { buildDirectory.appendingPathComponent("board.dts") }
    public var deviceTreeBlob: URL { buildDirectory.appendingPathComponent("board.dtb") }
    public var glueFile: URL { buildDirectory.appendingPathComponent("main.swift") }
    public var qemuCommandFile: URL { buildDirectory.appendingPathComponent("qemu-command.txt") }

    public func image(_ name: String) -> URL { distDirectory.appendingPathComponent("\(name).elf") }
    public func rawImage(_ name: String) -> URL { distDirectory.appendingPathComponent("\(name).bin") }

    /// The configuration the last `configure` wrote.
    public func configured() throws -> ResolvedConfiguration {
        guard let data = try? Data(contentsOf: configurationFile) else {
            throw MirageError("\(displayPath(directory.path)) is not configured", fix: "run: mirage-config configure --target arm")
        }
        struct Format: Decodable { let format: Int? }
        guard (try? JSONDecoder().decode(Format.self, from: data))?.format == ResolvedConfiguration.currentFormat else {
            throw MirageError("\(displayPath(configurationFile.path)) was written by another version of mirage-config",
                              fix: "run mirage-config configure again")
        }
        do { return try JSONDecoder().decode(ResolvedConfiguration.self, from: data) } catch {
            throw MirageError("\(displayPath(configurationFile.path)) is unreadable (\(error))", fix: "run mirage-config configure again")
        }
    }

    /// Removes everything the tool wrote.
    /// Removes what boots of tools that are gone left in `_build/` (a tool
    /// killed with SIGKILL cannot clean up): the temporary files named with
    /// a process number (run-PID.dtb, blkdebug-PID-DISK.cfg, tftp-PID,
    /// disks/DISK-PID.img) whose process no longer runs.
    public func removeLeftovers() {
        let files = FileManager.default
        for folder in [buildDirectory, buildDirectory.appendingPathComponent("disks")] {
            for name in (try? files.contentsOfDirectory(atPath: folder.path)) ?? [] {
                guard let pid = Workspace.processNumber(inTemporaryName: name), pid != getpid(),
                      kill(pid, 0) != 0, errno == ESRCH else { continue }
                try? files.removeItem(at: folder.appendingPathComponent(name))
            }
        }
    }

    /// The process number in a temporary file's name, if it is one.
    static func processNumber(inTemporaryName name: String) -> pid_t? {
        let digits: Substring
        if name.hasPrefix("run-") || name.hasPrefix("tftp-") || name.hasPrefix("blkdebug-") {
            digits = name.drop { $0 != "-" }.dropFirst().prefix { $0.isNumber }
        } else if name.hasSuffix(".img"), let dash = name.lastIndex(of: "-") {
            digits = name[name.index(after: dash)...].prefix { $0.isNumber }
        } else {
            return nil
        }
        return digits.isEmpty ? nil : pid_t(digits)
    }

    /// Removes `_build/` and `dist/`, only in a unikernel's folder (one with
    /// config.swift): another project's `dist/` is not the tool's to delete.
    public func clean() throws -> [URL] {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.swift").path) else {
            throw MirageError("\(displayPath(directory.path)) is not a unikernel's folder (it has no config.swift), so its _build/ and dist/ are not mirage-config's",
                              fix: "run clean in a unikernel's folder, or pass it with -C FOLDER")
        }
        var removed: [URL] = []
        for folder in [buildDirectory, distDirectory] where FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.removeItem(at: folder)
            removed.append(folder)
        }
        return removed
    }
}
