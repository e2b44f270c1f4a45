import Foundation

/// Errors found while config.swift runs, printed as `file:line: error: ...`
/// so that editors and the tool can point at them.
enum Diagnostics {
    nonisolated(unsafe) static var errors: [String] = []

    static func error(_ message: String, at location: SourceLocation?, fix: String? = nil) {
        var text = location.map { "\($0.file):\($0.line): error: " } ?? "error: "
        text += message
        if let fix { text += "\n    fix: \(fix)" }
        errors.append(text)
    }

    static func exitIfErrors() {
        guard !errors.isEmpty else { return }
        FileHandle.standardError.write(Data((errors.joined(separator: "\n") + "\n").utf8))
        exit(1)
    }

    static func describe(_ location: SourceLocation) -> String {
        "\((location.file as NSString).lastPathComponent):\(location.line)"
    }

    static func ordinal(_ n: Int) -> String {
        switch n {
        case 1: return "1st"
        case 2: return "2nd"
        case 3: return "3rd"
        default: return "\(n)th"
        }
    }
}

/// The DSL's constructors, to say what would fit. mirage-config reads them
/// from the DSL's declarations and those of the device packages config.swift
/// imports (no list is kept by hand) and passes them in
/// `constructorsVariable`, one `TYPE<tab>CONSTRUCTOR` line each.
public enum Catalog {
    public static let constructorsVariable = ConfigurationFormat.constructorsVariable

    static func constructors(for type: DeviceType) -> String {
        let lines = (ProcessInfo.processInfo.environment[constructorsVariable] ?? "").split(separator: "\n")
        let names = lines.compactMap { line -> String? in
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            return fields.count == 2 && fields[0] == type.name ? fields[1] : nil
        }
        return names.isEmpty ? "none known for \(type)" : names.joined(separator: ", ")
    }

    static func checkName(_ name: String, at location: SourceLocation?) {
        if !SwiftNames.isIdentifier(name) {
            Diagnostics.error("'\(name)' is not a valid device name", at: location,
                              fix: "use a Swift identifier: letters, digits and '_', not starting with a digit")
        } else if SwiftNames.keywords.contains(name) {
            Diagnostics.error("'\(name)' is a Swift keyword, so it cannot name a device", at: location,
                              fix: "choose another name, such as '\(name)Device'")
        }
    }

    static func checkKeyName(_ name: String, at location: SourceLocation) {
        let allowed = name.first?.isLetter == true && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        if !allowed || name == "target" {
            Diagnostics.error("'\(name)' is not a valid key name", at: location,
                              fix: "use letters, digits and '-', starting with a letter ('target' is taken)")
        }
    }
}
