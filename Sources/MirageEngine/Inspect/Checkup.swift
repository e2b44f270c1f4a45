import Foundation

/// `mirage-config doctor`: every tool each toolchain and `run` need.
public enum Checkup {
    public struct Report {
        public let text: String
        public let allFound: Bool
    }

    public static func run(installation: Installation) throws -> Report {
        var text = "mirage-config \(Installation.toolVersion), files at \(installation.root.path)\n"
        var allFound = true
        func line(_ found: URL?, _ what: String, _ install: String) {
            if let found {
                text += "  found    \(what): \(found.path)\n"
            } else {
                text += "  MISSING  \(what): \(install)\n"
                allFound = false
            }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: installation.toolchainsDirectory.path)
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
        for name in names {
            let toolchain = try Toolchain.load(name, from: installation)
            text += "toolchain \(name)\(name == Toolchain.defaultName ? " (default)" : ""): \(toolchain.description)\n"
            for role in toolchain.roles {
                guard let tool = toolchain.tools[role] else { continue }
                line(toolchain.locate(role), "\(role) \(tool.command)", tool.install)
            }
        }
        text += "build\n"
        line(findInPath("ninja"), "ninja", "apt-get install ninja-build")
        text += "run and test\n"
        line(findInPath(QemuCommand.executable), QemuCommand.executable, QemuProfile.installHint)
        line(setprivPath, "setpriv (children end with the tool)", "apt-get install util-linux")
        text += "boot loaders (run --boot-loader, image)\n"
        line(findInPath("mkimage"), "mkimage", "apt-get install u-boot-tools")
        for board in try Board.all(in: installation) {
            if let name = board.qemu, let profile = try? QemuProfile.load(name, from: installation), let uBoot = profile.uBoot {
                line(existing(uBoot), "U-Boot for \(board.name)", "apt-get install u-boot-qemu")
            }
            if let card = board.sdCard {
                line(try? card.uBootFile(in: installation), "U-Boot with SPL for \(board.name)'s SD card", "run scripts/setup (it fetches the boards' firmware)")
            }
        }
        line(findInPath("sfdisk"), "sfdisk (SD card images)", "apt-get install fdisk")
        line(findInPath("mkfs.fat"), "mkfs.fat (SD card images)", "apt-get install dosfstools")
        line(findInPath("mcopy"), "mcopy (SD card images)", "apt-get install mtools")
        text += "stores (kv, crunch)\n"
        line(findInPath("tar"), "GNU tar", "apt-get install tar")
        line(littlefsPython(installation), "littlefs-python", "run scripts/setup (pip install littlefs-python into .build/python)")
        text += "checks (tests)\n"
        line(findInPath("dtc"), "dtc", "apt-get install device-tree-compiler")
        text += "boards: " + (try Board.all(in: installation)).map(\.name).joined(separator: ", ") + "\n"
        text += allFound ? "All tools found.\n" : "Some tools are missing: install them with the commands above (or run scripts/setup).\n"
        return Report(text: text, allFound: allFound)
    }

    static var setprivPath: URL? { ChildProcesses.setpriv }

    static func existing(_ path: String) -> URL? {
        FileManager.default.fileExists(atPath: path) ? URL(fileURLWithPath: path) : nil
    }

    /// The python3 that `kv` runs tools/littlefs-tool.py with, if it can import littlefs.
    static func littlefsPython(_ installation: Installation) -> URL? {
        let venv = installation.root.appendingPathComponent(".build/python/bin/python3")
        guard let python = FileManager.default.isExecutableFile(atPath: venv.path) ? venv : findInPath("python3"),
              let result = try? Shell.run(python, ["-c", "import littlefs"], timeout: 30), result.status == 0 else { return nil }
        return python
    }
}
