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
            for argument in device.arguments { text += "  \"\(argument)\" -> \"\(device.name)\";\n" }
        }
        for (index, argument) in configuration.jobArguments.enumerated() {
            text += "  \"\(argument)\" -> job [label=\"\(index + 1)\"];\n"
        }
        return text + "}\n"
    }
}
