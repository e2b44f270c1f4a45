import Foundation

/// The resolved device graph as text or Graphviz: the graph is data, so
/// printing it is free (functoria's `describe`).
public enum GraphDescription {
    public static func text(_ configuration: ResolvedConfiguration) -> String {
        var text = "\(configuration.name) on \(configuration.board) (target \(configuration.target), toolchain \(configuration.toolchain))\n"
        text += "job \(configuration.job).start(\(configuration.jobArguments.joined(separator: ", ")))\n"
        for device in configuration.devices {
            text += "  \(device.name): \(device.type) <- \(device.driver)"
            if let path = device.path, let peripheral = device.peripheral { text += " at \(path) (\(peripheral))" }
            for hardware in device.hardware { text += " + \(hardware.driver) at \(hardware.path) (\(hardware.peripheral))" }
            if !device.arguments.isEmpty { text += " needs \(device.arguments.joined(separator: ", "))" }
            text += "; used at \(device.usedAt.joined(separator: ", "))\n"
        }
        for key in configuration.keys {
            text += "  key --\(key.name): \(key.type.rawValue) = \(key.value) (\(key.stage.rawValue)-time; \(key.doc))\n"
        }
        return text
    }

    public static func dot(_ configuration: ResolvedConfiguration) -> String {
        var text = "digraph \"\(configuration.name)\" {\n  rankdir=BT;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        text += "  job [label=\"\(configuration.job)\\n(job)\", shape=doubleoctagon];\n"
        for device in configuration.devices {
            text += "  \"\(device.name)\" [label=\"\(device.name)\\n\(device.type): \(device.driver)\\n\(device.path ?? "software")\"];\n"
            for hardware in device.hardware {
                text += "  \"\(hardware.peripheral)\" [label=\"\(hardware.driver)\\n\(hardware.path)\", shape=component];\n"
                text += "  \"\(hardware.peripheral)\" -> \"\(device.name)\";\n"
            }
            for argument in device.arguments { text += "  \"\(argument)\" -> \"\(device.name)\";\n" }
        }
        for (index, argument) in configuration.jobArguments.enumerated() {
            text += "  \"\(argument)\" -> job [label=\"\(index + 1)\"];\n"
        }
        return text + "}\n"
    }
}

/// `mirage-config query`.
public enum QueryAnswer {
    public static func answer(_ topic: String, workspace: Workspace, json: Bool) throws -> String {
        let configuration = try workspace.configured()
        let board = try Board.load(configuration.board, from: workspace.installation)
        let value: Any
        switch topic {
        case "board":
            value = ["name": board.name, "description": board.description, "cpu": board.cpu.core,
                     "ram": ["base": board.memory.ram.base, "size": board.memory.ram.size],
                     "load": board.memory.load, "qemu": board.qemu ?? ""] as [String: Any]
        case "keys":
            value = configuration.keys.map {
                ["name": $0.name, "type": $0.type.rawValue, "stage": $0.stage.rawValue, "value": $0.value,
                 "default": $0.defaultValue, "doc": $0.doc] as [String: Any]
            }
        case "files":
            value = ["configuration": workspace.configurationFile, "manifest": workspace.manifestFile,
                     "linker-script": workspace.linkerScript, "dts": workspace.deviceTreeSource,
                     "dtb": workspace.deviceTreeBlob, "glue": workspace.glueFile, "qemu-command": workspace.qemuCommandFile,
                     "elf": workspace.image(configuration.name), "bin": workspace.rawImage(configuration.name)]
                .mapValues { displayPath($0.path) }
        case "qemu":
            value = try Runner(workspace: workspace).command(bootArguments: []).1.arguments
        case "devices":
            value = configuration.devices.map {
                ["name": $0.name, "type": $0.type, "driver": $0.driver, "path": $0.path ?? "", "peripheral": $0.peripheral ?? "",
                 "hardware": $0.hardware.map(\.path).joined(separator: ",")] as [String: Any]
            }
        default:
            throw MirageError("unknown query '\(topic)'", fix: "ask for board, keys, files, qemu or devices")
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
        return plain(value)
    }

    static func plain(_ value: Any) -> String {
        switch value {
        case let dictionary as [String: Any]:
            return dictionary.keys.sorted().map { key in
                let inner = dictionary[key]!
                if let nested = inner as? [String: Any] {
                    return "\(key): " + nested.keys.sorted().map { "\($0)=\(format(nested[$0]!))" }.joined(separator: " ")
                }
                return "\(key): \(format(inner))"
            }.joined(separator: "\n")
        case let array as [[String: Any]]:
            return array.map { item in item.keys.sorted().map { "\($0)=\(format(item[$0]!))" }.joined(separator: " ") }.joined(separator: "\n")
        case let strings as [String]:
            return strings.joined(separator: " ")
        default:
            return "\(value)"
        }
    }

    static func format(_ value: Any) -> String {
        if let number = value as? UInt64 { return "0x" + String(number, radix: 16) }
        return "\(value)"
    }
}

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
