import Foundation

/// A disk image a boot attaches to a block device of the configuration.
public struct DiskAttachment: Equatable {
    /// The block device's instance name.
    public let device: String
    public let file: URL
    /// The size config.swift declared, in bytes.
    public let declaredSize: UInt64?
    /// Whether a missing image is made (zero-filled, at `declaredSize`).
    public let create: Bool
    public let sizeRule: Driver.DiskSizeRule
    /// Every device that uses it only reads it (a tar store), so the file is never to be changed.
    public var readOnlyUse = false
}

/// Which disk image each block device gets: config.swift's `image:`
/// (relative to its folder) unless `run --disk NAME=FILE` names another.
public enum Disks {
    /// Parses `--disk NAME=FILE` values; relative files are taken from `folder`
    /// (the current directory, for a command line).
    public static func overrides(_ arguments: [String], configuration: ResolvedConfiguration, drivers: DriverCatalog,
                                 relativeTo folder: URL) throws -> [String: URL] {
        let names = try diskDevices(configuration, drivers: drivers).map(\.name)
        let known = names.isEmpty ? "this unikernel has no block device" : "its block devices are: \(names.joined(separator: ", "))"
        var result: [String: URL] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex,
                  argument.index(after: equals) != argument.endIndex else {
                throw MirageError("--disk '\(argument)' is not NAME=FILE", fix: known)
            }
            let name = String(argument[..<equals]), path = String(argument[argument.index(after: equals)...])
            guard names.contains(name) else { throw MirageError("--disk \(argument): the unikernel has no block device '\(name)'", fix: known) }
            guard result[name] == nil else { throw MirageError("--disk names '\(name)' twice") }
            result[name] = resolvePath(path, in: folder)
        }
        return result
    }

    /// Parses `NAME=N` (the disk NAME fails every write after its N-th),
    /// for disks this boot attaches.
    static func failingWrites(_ arguments: [String], attached: [DiskAttachment]) throws -> [(String, Int)] {
        try arguments.map { argument in
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let writes = Int(parts[1]), writes >= 0 else {
                throw MirageError("--fail-writes-after '\(argument)' is not NAME=N", fix: "N is how many writes succeed, 0 or more")
            }
            guard let disk = attached.first(where: { $0.device == parts[0] }) else {
                throw MirageError("--fail-writes-after \(argument): the unikernel has no block device '\(parts[0])'",
                                  fix: "its block devices: \(attached.map(\.device).joined(separator: ", "))")
            }
            guard !disk.file.path.contains(":") else {
                throw MirageError("QEMU's blkdebug cannot take the disk image \(disk.file.path): its path has a ':'")
            }
            return (parts[0], writes)
        }
    }

    /// blkdebug rules: each write moves the state on by one; from state N+1
    /// every write fails with EIO, as a disk that stopped after N writes.
    static func blkdebugRules(failingAfter writes: Int) -> String {
        var text = "# mirage-config: fail every write after the first \(writes)\n"
        for state in 1...max(1, writes) where writes > 0 {
            text += "[set-state]\nstate = \"\(state)\"\nevent = \"write_aio\"\nnew_state = \"\(state + 1)\"\n\n"
        }
        text += "[inject-error]\nstate = \"\(writes + 1)\"\nevent = \"write_aio\"\nerrno = \"5\"\n"
        return text
    }

    /// Parses `NAME=LOG` (record the disk NAME's writes in LOG).
    static func loggedWrites(_ arguments: [String], attached: [DiskAttachment], relativeTo folder: URL) throws -> [(String, URL)] {
        try arguments.map { argument in
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else { throw MirageError("--log-writes '\(argument)' is not NAME=LOG") }
            guard attached.contains(where: { $0.device == parts[0] }) else {
                throw MirageError("--log-writes \(argument): the unikernel has no block device '\(parts[0])'",
                                  fix: "its block devices: \(attached.map(\.device).joined(separator: ", "))")
            }
            return (parts[0], resolvePath(parts[1], in: folder))
        }
    }

    /// A qemu filename that writes through to `image` and logs every write
    /// and flush to `log` (blklogwrites; the superblock kept current).
    static func blklogwrites(image: String, log: String) -> String {
        func json(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        // These options are the raw format node's (-drive format=raw): its file is the logger.
        return "json:{\"file\":{\"driver\":\"blklogwrites\",\"file\":{\"driver\":\"file\",\"filename\":\(json(image))},"
            + "\"log\":{\"driver\":\"file\",\"filename\":\(json(log))},\"log-sector-size\":512,\"log-super-update-interval\":1}}"
    }

    /// The configuration's devices whose drivers attach a disk image.
    static func diskDevices(_ configuration: ResolvedConfiguration, drivers: DriverCatalog) throws -> [ResolvedDevice] {
        try configuration.devices.filter { try drivers.driver($0.driver).takesDisk }
    }

    /// The image of each block device, or an error naming the device that has none.
    public static func plan(_ configuration: ResolvedConfiguration, drivers: DriverCatalog, folder: URL,
                            overrides: [String: URL]) throws -> [DiskAttachment] {
        try diskDevices(configuration, drivers: drivers).map { device in
            let driver = try drivers.driver(device.driver)
            let file = overrides[device.name] ?? device.parameters["image"].map { resolvePath($0, in: folder) }
            guard let file else {
                throw MirageError("the block device '\(device.name)' has no disk image",
                                  fix: "give one: run --disk \(device.name)=FILE, or image: \"FILE\" in config.swift's disk(...)")
            }
            let users = configuration.devices.filter { $0.arguments.contains(device.name) }
            let readOnly = try !users.isEmpty && users.allSatisfy { try drivers.driver($0.driver).diskAccess == .readOnly }
            return DiskAttachment(device: device.name, file: file, declaredSize: device.parameters["size"].flatMap { UInt64($0) },
                                  create: device.parameters["create"] == "true", sizeRule: driver.diskSize, readOnlyUse: readOnly)
        }
    }

    /// Makes each image ready to boot: creates a missing one if config.swift
    /// allows, and pads one whose size QEMU's model refuses: in place when
    /// the unikernel writes the disk anyway, as a copy in `copies` when it
    /// only reads it (the person's file is never changed then). `say` gets
    /// a line for each change made; returns what to attach.
    public static func prepare(_ disks: [DiskAttachment], copies: URL, say: (String) -> Void) throws -> [DiskAttachment] {
        let files = FileManager.default
        var prepared: [DiskAttachment] = []
        for var disk in disks {
            defer { prepared.append(disk) }
            let path = disk.file.path
            if !files.fileExists(atPath: path) {
                guard disk.create, let size = disk.declaredSize else {
                    throw MirageError("the disk image \(displayPath(path)) for '\(disk.device)' does not exist",
                                      fix: "make it (mirage-config kv pack DIR -o FILE, or truncate -s SIZE FILE), or declare create: true and a size in config.swift")
                }
                guard files.createFile(atPath: path, contents: nil) else {
                    throw MirageError("cannot create the disk image \(displayPath(path)) for '\(disk.device)'")
                }
                try resize(disk.file, to: size)
                say("created \(displayPath(path)) (\(size) bytes, zero-filled) for the disk '\(disk.device)'")
            }
            try requireReadableFile(disk.file, "the disk image for '\(disk.device)'")
            let size = try sizeOf(disk.file)
            let wanted = requiredSize(size, rule: disk.sizeRule)
            guard wanted != size else { continue }
            let why = disk.sizeRule == .powerOfTwo ? "QEMU's SD card model needs a power of two" : "a disk is whole 512-byte sectors"
            if disk.readOnlyUse {
                try files.createFolder(copies)
                let copy = copies.appendingPathComponent("\(disk.device)-\(ProcessInfo.processInfo.processIdentifier).img")
                try? files.removeItem(at: copy)
                try files.copyItem(at: disk.file, to: copy)
                ChildProcesses.temporary(copy)
                try resize(copy, to: wanted)
                say("booting a copy of \(displayPath(path)) padded from \(size) to \(wanted) bytes (\(why)); the file itself is unchanged")
                disk = DiskAttachment(device: disk.device, file: copy, declaredSize: disk.declaredSize, create: false,
                                      sizeRule: disk.sizeRule, readOnlyUse: true)
            } else {
                try resize(disk.file, to: wanted)
                say("padded \(displayPath(path)) from \(size) to \(wanted) bytes with zeros: \(why)")
            }
        }
        return prepared
    }

    /// The size an image of `size` bytes must grow to: whole sectors, and a power of two where the rule asks.
    static func requiredSize(_ size: UInt64, rule: Driver.DiskSizeRule) -> UInt64 {
        let sectors = (max(size, 512) + 511) / 512 * 512
        guard rule == .powerOfTwo else { return sectors }
        var power: UInt64 = 512
        while power < sectors { power *= 2 }
        return power
    }

    static func sizeOf(_ file: URL) throws -> UInt64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        return (attributes[.size] as? NSNumber)?.uint64Value ?? 0
    }

    static func resize(_ file: URL, to size: UInt64) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.truncate(atOffset: size)
    }
}
