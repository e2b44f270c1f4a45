import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// Shared helpers: the installation, boards and ad-hoc graphs.
enum Fixtures {
    static let installation: Installation = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !Installation.looksLikeRoot(folder) { folder = folder.deletingLastPathComponent() }
        return Installation(root: folder)
    }()

    static func board(_ name: String) throws -> Board { try Board.load(name, from: installation) }

    /// Every driver the tool ships.
    static let drivers: DriverCatalog = try! DriverCatalog(installation: installation)

    /// Every board in targets/: tests iterate over these, never over names.
    static let boards: [Board] = try! Board.all(in: installation)

    static let here = SourceLocation(file: "config.swift", line: 12)

    /// A graph built with the DSL, read back through its JSON as `configure` reads config.swift's.
    static func graph(_ devices: [Device], keys: [KeyDeclaration] = [], name: String = "hello") -> ConfigModel.Graph {
        let graph = ConfigurationGraph(name: name, job: "Hello", jobLocation: SourceLocation(file: "config.swift", line: 10),
                                       devices: devices, keys: keys, applicationLocation: here, registerLocation: here)
        return try! ConfigModel.Graph.decode(try! JSONEncoder().encode(graph))
    }

    /// `graph` resolved for `target` with the tool's drivers.
    static func resolve(_ graph: ConfigModel.Graph, on target: String, keys: [String: String] = [:]) throws -> ResolvedConfiguration {
        try Resolver(graph: graph, board: try board(target), drivers: drivers, target: target, keyValues: keys).resolve()
    }

    static func key(_ name: String, _ type: KeyType, _ value: String, stage: KeyStage = .boot, line: Int = 3) -> KeyDeclaration {
        KeyDeclaration(name: name, doc: "doc of \(name)", type: type, stage: stage, defaultValue: value,
                       location: SourceLocation(file: "config.swift", line: line))
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mirage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs a host program, returning (status, stdout, stderr).
    static func run(_ command: String, _ arguments: [String]) throws -> Shell.Result {
        guard let tool = findInPath(command) else {
            XCTFail("\(command) is not installed (scripts/setup installs it)")
            return Shell.Result(status: 127, output: "", error: "")
        }
        return try Shell.run(tool, arguments)
    }
}

extension XCTestCase {
    /// The error `body` throws, as text.
    func errorText(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }
}
