// The JSON that config.swift writes and mirage-config reads, defined once.
// The DSL (Sources/MirageConfig) and the engine both compile this file:
// Sources/MirageEngine/Model/ConfigurationFormat.swift is a link to it. Each
// side keeps its own types (the DSL's surface can change freely, as SwiftPM's
// PackageDescription and PackageModel do); the field names, the version, the
// environment variables and the Swift naming rules are these, and nowhere else.

/// The configuration graph's JSON format.
enum ConfigurationFormat {
    /// The version written; the engine refuses another.
    static let version = 3
    /// Where the evaluated config.swift writes its graph.
    static let graphOutputVariable = "MIRAGE_CONFIG_GRAPH_OUTPUT"
    /// Where the tool passes the constructors that make each device type:
    /// `TYPE<tab>CONSTRUCTOR` lines, for "devices that fit".
    static let constructorsVariable = "MIRAGE_CONFIG_CONSTRUCTORS"

    enum GraphField: String, CodingKey {
        case formatVersion, name, job, jobLocation, devices, signature, keys, applicationLocation, registerLocation
    }

    enum DeviceField: String, CodingKey {
        case type, name, implementation, arguments, keys, parameters, location
        case isOptional = "optional"
    }

    enum ImplementationField: String, CodingKey { case kind, driver, key, cases, otherwise }

    /// The `kind` of an implementation.
    enum ImplementationKind: String {
        case boardDefault = "board-default"
        case driver
        case match
    }

    enum KeyField: String, CodingKey {
        case name, doc, type, stage, defaultValue, minimum, maximum, choices, format, location
    }

    enum LocationField: String, CodingKey { case file, line }
}

/// What the generated Swift can use as a plain name.
enum SwiftNames {
    /// Words the generated Swift cannot use as plain names (a key named one is written in backquotes).
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do", "else",
        "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as",
        "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "_",
    ]

    /// Whether `name` is an ASCII Swift identifier.
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
