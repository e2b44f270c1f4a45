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
    }

    public let workspace: Workspace

    public init(workspace: Workspace) { self.workspace = workspace }

    /// Writes the images of `format` into dist/ and returns them.
    public func write(_ format: Format) throws -> [URL] {
        let configuration = try workspace.configured()
        let board = try Board.load(configuration.board, from: workspace.installation)
        let elf = workspace.image(configuration.name), raw = workspace.rawImage(configuration.name)
        guard FileManager.default.fileExists(atPath: raw.path) else {
            throw MirageError("no image \(displayPath(raw.path))", fix: "run: mirage-config build")
        }
        try Runner(workspace: workspace).checkImage(elf, against: configuration)
        switch format {
        case .bin:
            return [raw]
        case .uimage:
            return try uImage(configuration, board: board, raw: raw)
        }
    }

    func uImage(_ configuration: ResolvedConfiguration, board: Board, raw: URL) throws -> [URL] {
        guard let mkimage = findInPath("mkimage") else {
            throw MirageError("mkimage is not installed", fix: "apt-get install u-boot-tools (or run scripts/setup)")
        }
        guard let dtbRegion = board.memory.reserved("dtb") else {
            throw MirageError("targets/\(board.name).yaml reserves no dtb region for the boot loader to put the device tree in")
        }
        let dist = workspace.distDirectory
        let name = configuration.name
        let uImage = dist.appendingPathComponent("\(name).uImage"), dtb = dist.appendingPathComponent("\(name).dtb")
        let command = dist.appendingPathComponent("boot.cmd"), script = dist.appendingPathComponent("boot.scr")
        let load = "0x" + String(board.memory.load, radix: 16)
        let environment = ["SOURCE_DATE_EPOCH": "0"]
        try run(mkimage, ["-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", load, "-e", load,
                          "-n", String("mirage \(name) \(board.name)".prefix(31)), "-d", raw.path, uImage.path], environment)
        try writeIfChanged(try Data(contentsOf: workspace.deviceTreeBlob), to: dtb)
        try writeIfChanged(BootImage.bootCommands(configuration, board: board, dtbAddress: dtbRegion.base), to: command)
        try run(mkimage, ["-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "mirage \(name)",
                          "-d", command.path, script.path], environment)
        let dhcpName = dist.appendingPathComponent("boot.scr.uimg")
        try writeIfChanged(try Data(contentsOf: script), to: dhcpName)
        return [uImage, dtb, command, script, dhcpName]
    }

    /// A folder for U-Boot's TFTP with the uImage, the device tree and a boot
    /// script whose bootargs are `bootArguments` (this boot's keys).
    public func tftpFolder(_ folder: URL, bootArguments: String) throws {
        let configuration = try workspace.configured()
        let board = try Board.load(configuration.board, from: workspace.installation)
        let written = try write(.uimage)
        try FileManager.default.createFolder(folder)
        for file in written where ["uImage", "dtb"].contains(file.pathExtension) {
            try Data(contentsOf: file).write(to: folder.appendingPathComponent(file.lastPathComponent))
        }
        guard let mkimage = findInPath("mkimage"), let dtbRegion = board.memory.reserved("dtb") else { return }
        let command = folder.appendingPathComponent("boot.cmd")
        try BootImage.bootCommands(configuration, board: board, dtbAddress: dtbRegion.base, bootArguments: bootArguments)
            .write(to: command, atomically: true, encoding: .utf8)
        try run(mkimage, ["-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "mirage \(configuration.name)",
                          "-d", command.path, folder.appendingPathComponent("boot.scr.uimg").path], ["SOURCE_DATE_EPOCH": "0"])
    }

    /// The readable boot script: the configured boot-time keys as bootargs,
    /// the image and the device tree fetched over TFTP, bootm. The device
    /// tree goes to the board's reserved dtb region, which U-Boot's
    /// fdt_high=0xffffffff leaves in place.
    static func bootCommands(_ configuration: ResolvedConfiguration, board: Board, dtbAddress: UInt64,
                             bootArguments: String? = nil) -> String {
        let bootArguments = bootArguments
            ?? BootArgumentQuoting.commandLine(configuration.keys.filter { $0.stage == .boot }.map { ($0.name, $0.value) })
        let dtb = "0x" + String(dtbAddress, radix: 16)
        return """
        # Boots the unikernel '\(configuration.name)' on \(board.name) through U-Boot.
        # Generated by mirage-config image; boot.scr is this, made with mkimage -T script.
        # Boot-time keys: change bootargs here, or at U-Boot's prompt with setenv.
        setenv bootargs \(hushQuoted(bootArguments))
        tftpboot ${kernel_addr_r} \(configuration.name).uImage
        tftpboot \(dtb) \(configuration.name).dtb
        bootm ${kernel_addr_r} - \(dtb)

        """
    }

    /// A word for U-Boot's hush shell: single-quoted, so `$` and `"` stand as they are.
    static func hushQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    func run(_ tool: URL, _ arguments: [String], _ environment: [String: String]) throws {
        let result = try Shell.run(tool, arguments, environment: environment, timeout: 60)
        guard result.status == 0 else {
            throw MirageError("\(tool.lastPathComponent) failed: \(result.error + result.output)")
        }
    }
}
