import Foundation

/// `mirage-config query`.
public enum QueryAnswer {
    public static func answer(_ topic: String, workspace: Workspace, json: Bool) throws -> String {
        let configuration = try workspace.configured()
        let board = configuration.boardDescription
        let value: Any
        switch topic {
        case "board":
            var fields: [String: Any] = ["name": board.name, "description": board.description, "runs-as": board.runsAs.rawValue,
                                         "qemu": board.qemu ?? ""]
            if let cpu = board.cpu, let memory = board.memory {
                fields["cpu"] = cpu.core
                fields["ram"] = ["base": memory.ram.base, "size": memory.ram.size]
                fields["load"] = memory.load
            }
            value = fields
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
            value = try Runner(workspace: workspace).command(Runner.BootRequest(), for: .query).arguments
        case "devices":
            value = configuration.devices.map {
                ["name": $0.name, "type": $0.type, "driver": $0.driver, "path": $0.path ?? "", "peripheral": $0.peripheral ?? "",
                 "arguments": $0.arguments.joined(separator: ",")] as [String: Any]
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
