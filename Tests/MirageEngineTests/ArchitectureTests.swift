@testable import MirageEngine
import XCTest

/// The engine is a straight pipeline: its folders (Model, Emit, Configure,
/// Build, Image, Run, Inspect) depend on one another without a cycle, and
/// only configure reads targets/, the drivers' descriptors, toolchains/ and
/// qemu/: the later stages read configuration.json.
final class ArchitectureTests: XCTestCase {
    let engine = Fixtures.installation.root.appendingPathComponent("Sources/MirageEngine")

    /// Each folder's Swift files, without comments.
    func sources() throws -> [String: [(file: String, code: String)]] {
        var result: [String: [(String, String)]] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: engine.path).sorted() {
            let files = try FileManager.default.contentsOfDirectory(atPath: engine.appendingPathComponent(folder).path).sorted()
            result[folder] = try files.filter { $0.hasSuffix(".swift") }.map { name in
                let text = try String(contentsOf: engine.appendingPathComponent(folder).appendingPathComponent(name), encoding: .utf8)
                let code = text.split(separator: "\n").map { line in line.range(of: "//").map { line[..<$0.lowerBound] } ?? line }
                return (name, code.joined(separator: "\n"))
            }
        }
        return result
    }

    /// Folder A depends on folder B when A's code names a type, function or
    /// constant declared at the top level of B's files.
    func folderGraph() throws -> [String: [String: [String]]] {
        let sources = try sources()
        let declaration = try NSRegularExpression(pattern: #"^(?:public |private |fileprivate )?(?:final )?(?:struct|enum|class|protocol|func|let|var|typealias) +([A-Za-z_][A-Za-z0-9_]*)"#,
                                                  options: .anchorsMatchLines)
        var home: [String: String] = [:]
        for (folder, files) in sources.sorted(by: { $0.key < $1.key }) {
            for (_, code) in files {
                for match in declaration.matches(in: code, range: NSRange(code.startIndex..., in: code)) {
                    let name = String(code[Range(match.range(at: 1), in: code)!])
                    if home[name] == nil { home[name] = folder }
                }
            }
        }
        let word = try NSRegularExpression(pattern: #"\b[A-Za-z_][A-Za-z0-9_]*\b"#)
        var graph: [String: [String: [String]]] = [:]
        for (folder, files) in sources {
            for (file, code) in files {
                let words = Set(word.matches(in: code, range: NSRange(code.startIndex..., in: code)).map { String(code[Range($0.range, in: code)!]) })
                for name in words.sorted() {
                    guard let other = home[name], other != folder else { continue }
                    graph[folder, default: [:]][other, default: []].append("\(name) in \(file)")
                }
            }
        }
        return graph
    }

    func testTheEnginesFoldersDependOnOneAnotherWithoutACycle() throws {
        let graph = try folderGraph()
        var state: [String: Int] = [:]   // 1: on the path, 2: done
        var path: [String] = []
        func visit(_ folder: String) {
            if state[folder] == 2 { return }
            if state[folder] == 1 {
                let cycle = path.drop { $0 != folder } + [folder]
                let steps = zip(cycle, cycle.dropFirst()).map { "\($0) -> \($1) (\(graph[$0]?[$1]?.prefix(3).joined(separator: ", ") ?? ""))" }
                XCTFail("the engine's folders have a cycle: " + steps.joined(separator: "; "))
                return
            }
            state[folder] = 1
            path.append(folder)
            for next in (graph[folder] ?? [:]).keys.sorted() { visit(next) }
            path.removeLast()
            state[folder] = 2
        }
        for folder in graph.keys.sorted() { visit(folder) }
        XCTAssertNil(graph["Model"], "Model is below every stage: \(graph["Model"] ?? [:])")
        XCTAssertNil(graph["Configure"]?["Build"], "configure and build do not depend on each other")
        XCTAssertNil(graph["Build"]?["Configure"], "configure and build do not depend on each other")
    }

    /// Only configure (and the catalogue and doctor, which describe what
    /// exists) read the installation's descriptions; the later stages read
    /// configuration.json, which holds every fact they need.
    func testOnlyConfigureReadsTheDescriptions() throws {
        let readers = ["Board.load(", "Board.all(", "DriverCatalog(installation:", "Toolchain.load(", "QemuProfile.load("]
        var found: [String] = []
        for (folder, files) in try sources() where !["Configure", "Inspect", "Model"].contains(folder) {
            for (file, code) in files {
                for reader in readers where code.contains(reader) { found.append("\(folder)/\(file): \(reader)") }
            }
        }
        // `test` chooses the boards it configures for: all of targets/ unless boot-test.yaml names some;
        // `kv` works on a disk image, not a configured unikernel: it asks every store driver.
        XCTAssertEqual(found.sorted(), ["Image/StoreImage.swift: DriverCatalog(installation:", "Run/BootTestSuite.swift: Board.all("])
        var configureFiles: [String] = []
        for (folder, files) in try sources() {
            for (file, code) in files where code.contains("Board.load(") || code.contains("DriverCatalog(installation:") {
                configureFiles.append("\(folder)/\(file)")
            }
        }
        XCTAssertEqual(configureFiles.sorted(), ["Configure/Configure.swift", "Image/StoreImage.swift", "Inspect/Catalogue.swift"],
                       "Board.load and the driver catalogue are read once by configure (and by `list`, which shows them, and `kv`)")
    }

    /// The DSL and the engine share one definition of the graph's JSON and of
    /// Swift's names: the engine's file is a link to the DSL's.
    func testTheDSLAndTheEngineShareOneFormatFile() throws {
        let link = engine.appendingPathComponent("Model/ConfigurationFormat.swift")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link.path), "../../MirageConfig/ConfigurationFormat.swift")
        XCTAssertEqual(ConfigModel.formatVersion, ConfigurationFormat.version)
        var files = try sources().flatMap { folder, files in files.map { ("\(folder)/\($0.file)", $0.code) } }
        for file in try Fixtures.installation.dslSourceFiles() {
            files.append((file.path, try String(contentsOf: file, encoding: .utf8)))
        }
        for (file, code) in files where !file.hasSuffix("ConfigurationFormat.swift") {
            for literal in ["\"MIRAGE_CONFIG_GRAPH", "\"MIRAGE_CONFIG_CONSTRUCTORS", "\"board-default\"", "\"associatedtype\""] {
                XCTAssertFalse(code.contains(literal), "\(file) spells \(literal) itself")
            }
        }
    }

    /// Each device type has one home, Sources/Devices/FOLDER, as a device
    /// package has: the types its DSL/ declares are provided by the drivers in
    /// its Drivers/ and Libraries/ and by none elsewhere, and the DSL's core
    /// (Sources/MirageConfig) declares no type of its own.
    func testEachDeviceTypeHasOneHome() throws {
        let installation = Fixtures.installation
        let catalog = try DriverCatalog(installation: installation)
        var home: [String: String] = [:]
        for folder in try installation.deviceTypeFolders() {
            var declarations = DSLDeclarations()
            try declarations.add(files: swiftSources(in: folder.appendingPathComponent("DSL")), module: "MirageConfig")
            XCTAssertFalse(declarations.types.isEmpty, "\(folder.lastPathComponent)/DSL declares no device type")
            XCTAssertFalse(try swiftSources(in: folder.appendingPathComponent("Runtime")).isEmpty,
                           "\(folder.lastPathComponent) has no Runtime/ protocol")
            for type in declarations.types { home[type.name] = folder.lastPathComponent }
        }
        var core = DSLDeclarations()
        try core.add(files: swiftSources(in: installation.root.appendingPathComponent("Sources/MirageConfig")), module: "MirageConfig")
        XCTAssertEqual(core.types.map(\.name), [], "declare device types in Sources/Devices/TYPE/DSL")
        XCTAssertEqual(Set(home.keys), Set(try DSLDeclarations.read(installation: installation).types.map(\.name)))

        for driver in catalog.drivers {
            let path = driver.folder.standardizedFileURL.path
            guard let provides = driver.provides else {
                continue    // a library others use: in a type's home or in Boot/Shared
            }
            let expected = try XCTUnwrap(home[provides], "\(driver.name) provides '\(provides)', which no DSL declares")
            XCTAssertTrue(path.contains("/Sources/Devices/\(expected)/Drivers/") || path.contains("/Sources/Devices/\(expected)/Libraries/"),
                          "\(driver.name) provides '\(provides)' but lives in \(path), not Sources/Devices/\(expected)")
        }
    }
}
