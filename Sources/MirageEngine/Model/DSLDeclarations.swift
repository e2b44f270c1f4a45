import Foundation

/// What the DSL offers, read from its declarations: the device types
/// (`public static let NAME = DeviceType("name")` in an `extension
/// DeviceType`), the constructors that make devices (`public let NAME =
/// Device(.TYPE, ...)` and `public func NAME(...) -> Device`), and the keys
/// (`public let NAME = Key.boot("name", doc: ...)`), each with its doc
/// comment. The tool's own DSL and a device package's are read alike, so
/// `list devices` and config.swift's "devices that fit" cannot drift from
/// what the DSL declares: there is no list to keep by hand.
public struct DSLDeclarations: Codable, Equatable {
    public var types: [DeviceTypeDeclaration] = []
    public var constructors: [Constructor] = []
    public var keys: [KeyDeclaration] = []

    public struct DeviceTypeDeclaration: Codable, Equatable {
        /// As config.swift writes it: `.console`.
        public let swiftName: String
        /// As the graph and the drivers' `provides:` name it: `console`.
        public let name: String
        public let doc: String
        /// The types it fits in place of (`standingInFor:`), by name.
        public let standsInFor: [String]
        /// The module that declares it: MirageConfig, or a device package.
        public let module: String
    }

    public struct Constructor: Codable, Equatable {
        /// As config.swift writes it, with its argument labels:
        /// `defaultConsole`, `pl011Console(name:)`, `disk(_:image:size:create:driver:)`.
        public let name: String
        /// The device type it makes (its `name`).
        public let type: String
        public let doc: String
        /// The keys its devices declare, by key name.
        public let keys: [String]
        /// The module that declares it: MirageConfig, or a device package.
        public let module: String
    }

    public struct KeyDeclaration: Codable, Equatable {
        public let name: String
        /// `boot` or `configure`.
        public let stage: String
        public let doc: String
    }

    /// The constructors that make `type` or a type that stands in for it.
    public func constructors(fitting type: String) -> [Constructor] {
        let fitting = Set(types.filter { $0.name == type || $0.standsInFor.contains(type) }.map(\.name) + [type])
        return constructors.filter { fitting.contains($0.type) }
    }

    /// Reads the DSL of `installation` and of `packages`, in that order.
    public static func read(installation: Installation, packages: [DevicePackage] = []) throws -> DSLDeclarations {
        var declarations = DSLDeclarations()
        try declarations.add(files: installation.dslSourceFiles(), module: "MirageConfig")
        for package in packages { try declarations.add(files: swiftSources(in: package.dslSources), module: package.name) }
        return declarations
    }

    /// Adds the declarations of one module's source files.
    mutating func add(files: [URL], module: String) throws {
        var sources: [String] = []
        for file in files {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw MirageError("cannot read the DSL source \(file.path)")
            }
            sources.append(text)
        }
        add(sources: sources, module: module)
    }

    /// Adds the declarations in `sources` (one module's files' texts).
    mutating func add(sources: [String], module: String) {
        var functions: [ScannedFunction] = []
        var values: [(name: String, type: String, doc: String, body: String, isPublic: Bool)] = []
        var keyVariables: [(variable: String, name: String)] = []
        for source in sources {
            let lines = source.components(separatedBy: "\n")
            var index = 0
            while index < lines.count {
                let line = lines[index].trimmingCharacters(in: .whitespaces)
                let doc = DSLDeclarations.docComment(above: index, in: lines)
                if let type = DSLDeclarations.deviceType(in: line) {
                    types.append(DeviceTypeDeclaration(swiftName: "." + type.swiftName, name: type.name, doc: doc,
                                                       standsInFor: type.standsInFor, module: module))
                } else if let key = DSLDeclarations.key(in: line) {
                    keys.append(KeyDeclaration(name: key.name, stage: key.stage, doc: doc))
                    keyVariables.append((key.variable, key.name))
                } else if let value = DSLDeclarations.deviceValue(in: line) {
                    let body = DSLDeclarations.statement(from: index, in: lines)
                    values.append((value.name, value.type, doc, body, line.hasPrefix("public ")))
                } else if let function = DSLDeclarations.deviceFunction(from: index, in: lines) {
                    functions.append(ScannedFunction(name: function.name, labels: function.labels, doc: doc,
                                                     body: function.body, isPublic: line.hasPrefix("public ")))
                }
                index += 1
            }
        }
        // A function's type: the first `Device(.TYPE` in its body, else that
        // of the first device function it calls (`virtioRNG()` calls `virtioRNG(at:)`).
        var typeOf: [String: String] = [:]
        for function in functions { if let type = DSLDeclarations.firstDeviceType(in: function.body) { typeOf[function.name] = type } }
        for _ in functions {
            for function in functions where typeOf[function.name] == nil {
                if let callee = DSLDeclarations.firstCall(in: function.body, among: Set(typeOf.keys)) { typeOf[function.name] = typeOf[callee] }
            }
        }
        let typeNames = Dictionary(types.map { ($0.swiftName, $0.name) }, uniquingKeysWith: { first, _ in first })
        types = types.map { type in
            DeviceTypeDeclaration(swiftName: type.swiftName, name: type.name, doc: type.doc,
                                  standsInFor: type.standsInFor.map { typeNames[$0] ?? $0 }, module: type.module)
        }
        func keysUsed(by body: String, through called: Set<String> = []) -> [String] {
            // A key's declaration used (`ipv4Address.declaration`), or the key a match chooses by (`Device.match(netStack, ...`).
            var used = keyVariables.filter { body.contains($0.variable + ".") || body.contains("(" + $0.variable + ",") }.map(\.name)
            for function in functions where !called.contains(function.name) && body.contains(function.name + "(") && function.body != body {
                used += keysUsed(by: function.body, through: called.union([function.name]))
            }
            var seen = Set<String>()
            return used.filter { seen.insert($0).inserted }
        }
        for value in values where value.isPublic {
            constructors.append(Constructor(name: value.name, type: typeNames[value.type] ?? value.type, doc: value.doc,
                                            keys: keysUsed(by: value.body), module: module))
        }
        for function in functions where function.isPublic {
            guard let type = typeOf[function.name] else { continue }
            constructors.append(Constructor(name: "\(function.name)(\(function.labels.map { $0 + ":" }.joined()))",
                                            type: typeNames[type] ?? type, doc: function.doc, keys: keysUsed(by: function.body), module: module))
        }
    }

    struct ScannedFunction {
        let name: String
        let labels: [String]
        let doc: String
        let body: String
        let isPublic: Bool
    }

    /// The `///` lines right above line `index`, joined.
    static func docComment(above index: Int, in lines: [String]) -> String {
        var docLines: [String] = []
        var line = index - 1
        while line >= 0 {
            let text = lines[line].trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("///") else { break }
            docLines.insert(text.dropFirst(3).trimmingCharacters(in: .whitespaces), at: 0)
            line -= 1
        }
        return docLines.joined(separator: " ")
    }

    /// `public static let console = DeviceType("console")` (with `standingInFor: [.kv]`).
    static func deviceType(in line: String) -> (swiftName: String, name: String, standsInFor: [String])? {
        guard line.hasPrefix("public static let "), let equals = line.range(of: " = DeviceType(\"") else { return nil }
        let swiftName = String(line[line.index(line.startIndex, offsetBy: "public static let ".count)..<equals.lowerBound])
        let rest = line[equals.upperBound...]
        guard let quote = rest.firstIndex(of: "\"") else { return nil }
        var standsInFor: [String] = []
        if let list = rest.range(of: "standingInFor: [") {
            let inside = rest[list.upperBound...].prefix { $0 != "]" }
            standsInFor = inside.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return (swiftName, String(rest[..<quote]), standsInFor)
    }

    /// `public let ipMode = Key.configure("ip-mode", ...)`.
    static func key(in line: String) -> (variable: String, name: String, stage: String)? {
        guard line.hasPrefix("public let "), let equals = line.range(of: " = Key.") else { return nil }
        let variable = String(line[line.index(line.startIndex, offsetBy: "public let ".count)..<equals.lowerBound])
        let rest = line[equals.upperBound...]
        let stage = String(rest.prefix { $0.isLetter })
        guard let open = rest.range(of: "(\""), let close = rest[open.upperBound...].firstIndex(of: "\"") else { return nil }
        return (variable, String(rest[open.upperBound..<close]), stage)
    }

    /// `public let defaultConsole = Device(.console, ...)`: name and `.TYPE`.
    static func deviceValue(in line: String) -> (name: String, type: String)? {
        let declaration = line.hasPrefix("public let ") ? "public let " : line.hasPrefix("let ") ? "let " : nil
        guard let declaration, let equals = line.range(of: " = Device(.") else { return nil }
        let name = String(line[line.index(line.startIndex, offsetBy: declaration.count)..<equals.lowerBound])
        let type = "." + line[equals.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return (name, type)
    }

    /// A function returning `Device` that starts at line `index`: its name,
    /// argument labels (without the `file:` and `line:` that record where it
    /// is called) and body.
    static func deviceFunction(from index: Int, in lines: [String]) -> (name: String, labels: [String], body: String)? {
        let first = lines[index].trimmingCharacters(in: .whitespaces)
        guard first.hasPrefix("public func ") || first.hasPrefix("func ") else { return nil }
        var header = ""
        var line = index
        while line < lines.count, !header.contains("{") {
            header += lines[line] + "\n"
            line += 1
        }
        guard let brace = header.firstIndex(of: "{"), header[..<brace].contains("-> Device") else { return nil }
        let afterFunc = header[header.range(of: "func ")!.upperBound...]
        let name = String(afterFunc.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        guard let open = afterFunc.firstIndex(of: "("), let close = afterFunc.range(of: ") -> Device")?.lowerBound else { return nil }
        let labels = topLevelParts(of: String(afterFunc[afterFunc.index(after: open)..<close])).compactMap { parameter -> String? in
            guard !parameter.contains("#filePath"), !parameter.contains("#line") else { return nil }
            return parameter.trimmingCharacters(in: .whitespacesAndNewlines).prefix { $0 != " " && $0 != ":" }.description
        }
        return (name, labels, statement(from: index, in: lines))
    }

    /// The text from line `index` to the end of its statement: where the
    /// brackets it opens are closed again.
    static func statement(from index: Int, in lines: [String]) -> String {
        var depth = 0
        var opened = false
        var text = ""
        for line in lines[index...] {
            text += line + "\n"
            var inString = false
            for character in line {
                if character == "\"" { inString.toggle() }
                guard !inString else { continue }
                if "({[".contains(character) { depth += 1; opened = true }
                if ")}]".contains(character) { depth -= 1 }
            }
            if opened && depth <= 0 { break }
        }
        return text
    }

    /// Splits a parameter list at the commas outside brackets.
    static func topLevelParts(of text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if "([".contains(character) { depth += 1 }
            if ")]".contains(character) { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { parts.append(current) }
        return parts
    }

    /// The `.TYPE` of the first `Device(.TYPE` in `body`.
    static func firstDeviceType(in body: String) -> String? {
        guard let start = body.range(of: "Device(.") else { return nil }
        return "." + body[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// The first of `names` that `body` calls, after its own header.
    static func firstCall(in body: String, among names: Set<String>) -> String? {
        guard let brace = body.firstIndex(of: "{") else { return nil }
        let inside = body[brace...]
        return names.compactMap { name in inside.range(of: name + "(").map { (name, $0.lowerBound) } }.min { $0.1 < $1.1 }?.0
    }
}
