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
            for role in Toolchain.roles {
                guard let tool = toolchain.tools[role] else { continue }
                line(toolchain.locate(role), "\(role) \(tool.command)", tool.install)
            }
        }
        text += "build\n"
        line(findInPath("ninja"), "ninja", "apt-get install ninja-build")
        text += "run and test\n"
        line(findInPath(QemuCommand.executable), QemuCommand.executable, QemuProfile.installHint)
        text += "checks (tests)\n"
        line(findInPath("dtc"), "dtc", "apt-get install device-tree-compiler")
        line(findInPath("mkimage"), "mkimage", "apt-get install u-boot-tools")
        text += "boards: " + (try Board.all(in: installation)).map(\.name).joined(separator: ", ") + "\n"
        text += allFound ? "All tools found.\n" : "Some tools are missing: install them with the commands above (or run scripts/setup).\n"
        return Report(text: text, allFound: allFound)
    }
}
