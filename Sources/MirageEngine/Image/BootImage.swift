import Foundation

/// Images a boot loader starts, from the built ELF: the raw binary, or a
/// U-Boot legacy image (uImage, made with mkimage) with the device tree and
/// a boot script beside it. Reproducible: mkimage's timestamps come from
/// SOURCE_DATE_EPOCH, fixed at 0.
public struct BootImage {
    public enum Format: String, CaseIterable {
        /// dist/NAME.bin: the raw image, loaded at the board's load address.
        case bin
        /// dist/NAME.uImage, NAME.dtb, boot.cmd and boot.scr (also boot.scr.uimg,
        /// the name U-Boot's distro boot asks a DHCP/TFTP server for).
        case uimage
        /// dist/NAME.sdcard.img: the board's U-Boot with SPL, an MBR and a FAT
        /// boot partition holding boot.scr, the uImage and the DTB.
        case sdcard
    }

    /// Where the boot script fetches the image and the device tree from.
    enum Source {
        case tftp
        /// The partition U-Boot's distro boot found the script on.
        case bootPartition
    }

    public let workspace: Workspace

    public init(workspace: Workspace) { self.workspace = workspace }

    /// Writes the images of `format` into dist/ and returns them.
    public func write(_ format: Format) throws -> [URL] {
        let configuration = try workspace.configured()
        let board = configuration.boardDescription
        let elf = workspace.image(configuration.name), raw = workspace.rawImage(configuration.name)
        guard FileManager.default.fileExists(atPath: raw.path) else {
            throw MirageError("no image \(displayPath(raw.path))", fix: "run: mirage-config build")
        }
        try workspace.checkImage(elf, against: configuration)
        switch format {
        case .bin:
            return [raw]
        case .uimage:
            return try uImage(configuration, board: board, raw: raw)
        case .sdcard:
            let card = workspace.distDirectory.appendingPathComponent("\(configuration.name).sdcard.img")
            try sdCard(configuration, board: board, raw: raw, bootArguments: nil, to: card)
            return [card]
        }
    }

    func uImage(_ configuration: ResolvedConfiguration, board: Board, raw: URL) throws -> [URL] {
        guard let dtbRegion = try board.imageLayout(for: "a uImage").memory.reserved("dtb") else {
            throw MirageError("\(board.file) reserves no dtb region for the boot loader to put the device tree in")
        }
        let dist = workspace.distDirectory
        let name = configuration.name
        let uImage = dist.appendingPathComponent("\(name).uImage"), dtb = dist.appendingPathComponent("\(name).dtb")
        let command = dist.appendingPathComponent("boot.cmd"), script = dist.appendingPathComponent("boot.scr")
        try makeUImage(raw, name: name, board: board, to: uImage)
        try writeIfChanged(try deviceTree(board: board, bootArguments: nil), to: dtb)
        try writeIfChanged(BootImage.bootCommands(configuration, board: board, dtbAddress: dtbRegion.base), to: command)
        try makeScript(command, name: name, to: script)
        let dhcpName = dist.appendingPathComponent("boot.scr.uimg")
        try writeIfChanged(try Data(contentsOf: script), to: dhcpName)
        return [uImage, dtb, command, script, dhcpName]
    }

    /// Writes an SD card image for the board to `card`, with `bootArguments`
    /// in its script (the configured keys if nil). Real tools make every part:
    /// mkimage, sfdisk, mkfs.fat and mtools; its size is a power of two, as
    /// QEMU's SD card wants.
    public func sdCard(_ configuration: ResolvedConfiguration, board: Board, raw: URL, bootArguments: String?, to card: URL) throws {
        guard let layout = board.sdCard else {
            throw MirageError("the \(board.name) board boots from no SD card", fix: "\(board.file) has no sd-card: section")
        }
        let uBoot = try layout.checkedUBoot(in: workspace.installation)
        let partitionStart: UInt64 = 1 << 20
        guard layout.offset >= 512, layout.offset + UInt64(uBoot.count) <= partitionStart else {
            throw MirageError("the board's U-Boot (\(uBoot.count) bytes at \(layout.offset)) does not fit below the boot partition at 1 MiB")
        }
        let tools = try ["sfdisk", "mkfs.fat", "mcopy"].map { name -> URL in
            guard let tool = findInPath(name) ?? findInPath("/usr/sbin/" + name) ?? findInPath("/sbin/" + name) else {
                throw MirageError("\(name) is not installed", fix: "apt-get install u-boot-tools fdisk dosfstools mtools (or run scripts/setup)")
            }
            return tool
        }
        let (sfdisk, mkfs, mcopy) = (tools[0], tools[1], tools[2])
        let staging = workspace.buildDirectory.appendingPathComponent("sdcard-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createFolder(staging)
        defer { try? FileManager.default.removeItem(at: staging) }

        // The boot partition's files: the uImage, the DTB and the script, dated 1980-01-01 (FAT's first day).
        let name = configuration.name
        let environment = ["MTOOLS_SKIP_CHECK": "1", "TZ": "UTC"]
        try makeUImage(raw, name: name, board: board, to: staging.appendingPathComponent("\(name).uImage"))
        try deviceTree(board: board, bootArguments: bootArguments).write(to: staging.appendingPathComponent("\(name).dtb"))
        let memory = try board.imageLayout(for: "an SD card").memory
        let dtbAddress = memory.reserved("dtb")?.base ?? memory.ram.base
        try BootImage.bootCommands(configuration, board: board, dtbAddress: dtbAddress, from: .bootPartition)
            .write(to: staging.appendingPathComponent("boot.cmd"), atomically: true, encoding: .utf8)
        try makeScript(staging.appendingPathComponent("boot.cmd"), name: name, to: staging.appendingPathComponent("boot.scr"))
        let files = ["boot.scr", "boot.cmd", "\(name).uImage", "\(name).dtb"].map { staging.appendingPathComponent($0) }
        let firstDay = Date(timeIntervalSince1970: 315_532_800)
        for file in files { try FileManager.default.setAttributes([.modificationDate: firstDay], ofItemAtPath: file.path) }

        // The card: a power of two, at least 32 MiB, with room for the files.
        let payload = try files.reduce(UInt64(0)) { $0 + UInt64(try Data(contentsOf: $1).count) }
        var size: UInt64 = 32 << 20
        while size < partitionStart + payload * 2 + (8 << 20) { size *= 2 }
        let partition = staging.appendingPathComponent("boot.fat")
        guard FileManager.default.createFile(atPath: partition.path, contents: nil) else { throw MirageError("cannot write \(partition.path)") }
        try FileHandle(forWritingTo: partition).truncate(atOffset: size - partitionStart)
        try run(mkfs, ["--invariant", "-i", "4d495247", "-n", "MIRAGE", partition.path], environment)
        for file in files { try run(mcopy, ["-m", "-i", partition.path, file.path, "::\(file.lastPathComponent)"], environment) }

        let image = staging.appendingPathComponent("card.img")
        guard FileManager.default.createFile(atPath: image.path, contents: nil) else { throw MirageError("cannot write \(image.path)") }
        try FileHandle(forWritingTo: image).truncate(atOffset: size)
        let table = staging.appendingPathComponent("table.sfdisk")
        try "label: dos\nlabel-id: 0x4d495247\nunit: sectors\n\nstart=\(partitionStart / 512), type=c, bootable\n"
            .write(to: table, atomically: true, encoding: .utf8)
        let partitioned = try Shell.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "\(shellQuoted(sfdisk.path)) --no-reread --no-tell-kernel -q \(shellQuoted(image.path)) < \(shellQuoted(table.path))"],
                                        environment: environment, timeout: 60)
        guard partitioned.status == 0 else { throw MirageError("sfdisk failed: \(partitioned.error)") }
        let handle = try FileHandle(forWritingTo: image)
        try handle.seek(toOffset: layout.offset)
        handle.write(uBoot)
        try handle.seek(toOffset: partitionStart)
        handle.write(try Data(contentsOf: partition))
        try handle.close()
        try FileManager.default.createFolder(card.deletingLastPathComponent())
        if rename(image.path, card.path) != 0 { throw MirageError("cannot write \(card.path): \(String(cString: strerror(errno)))") }
    }

    /// A folder for U-Boot's TFTP with the uImage, the device tree and a boot
    /// script whose bootargs are `bootArguments` (this boot's keys).
    public func tftpFolder(_ folder: URL, bootArguments: String) throws {
        let configuration = try workspace.configured()
        let board = configuration.boardDescription
        let written = try write(.uimage)
        try FileManager.default.createFolder(folder)
        for file in written where file.pathExtension == "uImage" {
            try Data(contentsOf: file).write(to: folder.appendingPathComponent(file.lastPathComponent))
        }
        try deviceTree(board: board, bootArguments: bootArguments).write(to: folder.appendingPathComponent("\(configuration.name).dtb"))
        guard let dtbRegion = board.memory?.reserved("dtb") else { return }
        let command = folder.appendingPathComponent("boot.cmd")
        try BootImage.bootCommands(configuration, board: board, dtbAddress: dtbRegion.base)
            .write(to: command, atomically: true, encoding: .utf8)
        try makeScript(command, name: configuration.name, to: folder.appendingPathComponent("boot.scr.uimg"))
    }

    /// The device tree a boot loader starts the image with: the configured
    /// one, with `bootArguments` as /chosen/bootargs when given (this boot's
    /// keys). The keys travel there, byte for byte, never through U-Boot's
    /// shell, which undoes quoting. It must leave U-Boot the room it edits
    /// the tree in (CONFIG_SYS_FDT_PAD) within the board's dtb region, or
    /// U-Boot resets and starts again, for ever.
    func deviceTree(board: Board, bootArguments: String?) throws -> Data {
        var dtb = try workspace.readDeviceTree()
        if let bootArguments { dtb = try DeviceTreeBlob.settingBootArguments(dtb, to: bootArguments) }
        if let region = board.memory?.reserved("dtb"), UInt64(dtb.count) + BootImage.uBootTreePad > region.size {
            throw MirageError("the device tree with these boot arguments is \(dtb.count) bytes; with the \(BootImage.uBootTreePad) bytes U-Boot adds, larger than the \(region.size)-byte dtb region of \(board.file)",
                              fix: "give shorter boot-time values, or enlarge memory.reserved's dtb region")
        }
        return dtb
    }

    /// What U-Boot adds to a device tree it edits in place (its CONFIG_SYS_FDT_PAD).
    static let uBootTreePad: UInt64 = 0x3000

    /// The readable boot script: the image and the device tree fetched over
    /// TFTP or from the boot partition, bootm. The boot-time keys are in the
    /// device tree's /chosen/bootargs; U-Boot keeps them there unless its
    /// `bootargs` variable is set (setenv bootargs ... at its prompt), which
    /// replaces them. The device tree goes to the board's reserved dtb region,
    /// where fdt_high=0xffffffff leaves it.
    static func bootCommands(_ configuration: ResolvedConfiguration, board: Board, dtbAddress: UInt64,
                             from source: Source = .tftp) -> String {
        let dtb = "0x" + String(dtbAddress, radix: 16)
        // The device tree stays where it is loaded (fdt_high), in the board's dtb region.
        let fetch = source == .tftp ? "tftpboot" : "load ${devtype} ${devnum}:${distro_bootpart}"
        return """
        # Boots the unikernel '\(configuration.name)' on \(board.name) through U-Boot.
        # Generated by mirage-config image; boot.scr is this, made with mkimage -T script.
        # Boot-time keys are in \(configuration.name).dtb's /chosen/bootargs, byte for byte;
        # setenv bootargs at U-Boot's prompt replaces them.
        setenv fdt_high 0xffffffff
        \(fetch) ${kernel_addr_r} \(configuration.name).uImage
        \(fetch) \(dtb) \(configuration.name).dtb
        bootm ${kernel_addr_r} - \(dtb)

        """
    }

    /// mkimage, with its timestamps fixed.
    func mkimage() throws -> URL {
        guard let mkimage = findInPath("mkimage") else {
            throw MirageError("mkimage is not installed", fix: "apt-get install u-boot-tools (or run scripts/setup)")
        }
        return mkimage
    }

    /// The raw image as a U-Boot legacy kernel image at the board's load address.
    func makeUImage(_ raw: URL, name: String, board: Board, to output: URL) throws {
        let load = "0x" + String(try board.imageLayout(for: "a uImage").memory.load, radix: 16)
        try run(try mkimage(), ["-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", load, "-e", load,
                                "-n", String("mirage \(name) \(board.name)".prefix(31)), "-d", raw.path, output.path], ["SOURCE_DATE_EPOCH": "0"])
    }

    /// A boot script (boot.cmd) as the image U-Boot's `source` runs.
    func makeScript(_ commands: URL, name: String, to output: URL) throws {
        try run(try mkimage(), ["-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "mirage \(name)",
                                "-d", commands.path, output.path], ["SOURCE_DATE_EPOCH": "0"])
    }

    func run(_ tool: URL, _ arguments: [String], _ environment: [String: String]) throws {
        let result = try Shell.run(tool, arguments, environment: environment, timeout: 60)
        guard result.status == 0 else {
            throw MirageError("\(tool.lastPathComponent) failed: \(result.error + result.output)")
        }
    }
}
