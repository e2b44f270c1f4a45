import Foundation

/// The qemu-system-arm command line that boots an image on a board.
public struct QemuCommand {
    public let board: Board
    public let profile: QemuProfile
    public let image: URL
    public let deviceTree: URL
    /// The board peripherals the configuration uses (some need qemu arguments).
    public let peripherals: [String]

    public init(board: Board, profile: QemuProfile, image: URL, deviceTree: URL, peripherals: [String] = []) {
        self.board = board
        self.profile = profile
        self.image = image
        self.deviceTree = deviceTree
        self.peripherals = peripherals
    }

    public static let executable = "qemu-system-arm"

    /// The same command with another device tree (one `run` made for this boot).
    public func booting(_ deviceTree: URL) -> QemuCommand {
        QemuCommand(board: board, profile: profile, image: image, deviceTree: deviceTree, peripherals: peripherals)
    }

    public var arguments: [String] {
        var arguments = ["-M", profile.machine]
        if let cpu = profile.cpu { arguments += ["-cpu", cpu] }
        arguments += ["-m", profile.memory,
                      "-nographic", "-nodefaults", "-serial", "stdio",
                      // The unikernel ends qemu with its exit status through semihosting.
                      "-semihosting-config", "enable=on,target=native",
                      "-kernel", image.path]
        if let dtb = board.memory.reserved("dtb") {
            arguments += ["-device", "loader,file=\(deviceTree.path),addr=0x\(String(dtb.base, radix: 16)),force-raw=on"]
        }
        for peripheral in board.peripherals where peripherals.contains(peripheral.name) {
            arguments += peripheral.qemu ?? []
        }
        return arguments + profile.arguments
    }

    /// One line a person can paste into a shell.
    public var shellLine: String {
        ([QemuCommand.executable] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}
