import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// config.swift really compiled and run, as `configure` does it.
final class ConfigLoaderTests: XCTestCase {
    func loader(for config: String) throws -> ConfigLoader {
        let folder = try Fixtures.temporaryFolder()
        try config.write(to: folder.appendingPathComponent("config.swift"), atomically: true, encoding: .utf8)
        return ConfigLoader(installation: Fixtures.installation, directory: folder)
    }

    func testEvaluatesOnceThenAnswersFromTheCache() throws {
        var loader = try loader(for: """
        import MirageConfig
        let message = Key.boot("message", doc: "What to say", default: "hi")
        let main = Job("Hello", needs: .console, .clock, keys: [message])
        register("hello", main(defaultConsole, defaultClock))
        """)
        let graph = try loader.load().graph
        XCTAssertTrue(loader.evaluated)
        XCTAssertEqual(graph.formatVersion, ConfigModel.formatVersion)
        XCTAssertEqual(graph.name, "hello")
        XCTAssertEqual(graph.devices.map(\.type), ["console", "clock"])
        XCTAssertEqual(graph.keys.map(\.name), ["message"])
        XCTAssertEqual(graph.keys.first?.location.line, 2)
        XCTAssertEqual(graph.applicationLocation.line, 4)
        _ = try loader.load()
        XCTAssertFalse(loader.evaluated, "an unchanged config.swift must not run swiftc again")
    }

    func testWrongDeviceTypeNamesConfigSwiftAndTheLine() throws {
        var loader = try loader(for: """
        import MirageConfig

        let main = Job("Hello", needs: .console, .clock)

        register("hello", main(defaultClock, defaultClock))
        """)
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift:5: error: 'Hello' expects a console as its 1st device, but got the clock 'clock'"), text)
        XCTAssertTrue(text.contains("devices that fit: defaultConsole, pl011Console(name:), ns16550Console(name:)"), text)
    }

    /// A job that writes takes `.kvWriter`: a read-only store is refused at
    /// configure time, naming the line; a writable store fits a job that only reads.
    func testAJobThatWritesCannotBeGivenAReadOnlyStore() throws {
        var loader = try loader(for: """
        import MirageConfig

        let main = Job("Counter", needs: .console, .kvWriter)

        register("counter", main(defaultConsole, crunch("htdocs")))
        """)
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift:5: error: 'Counter' expects a kv-writer as its 2nd device, but got the kv 'kv'"), text)
        XCTAssertTrue(text.contains("devices that fit: littlefsStore(on:name:)"), text)
        var reader = try self.loader(for: """
        import MirageConfig
        let main = Job("Reader", needs: .console, .kv)
        register("reader", main(defaultConsole, littlefsStore(on: disk("data", image: "data.lfs", size: .mebibytes(1), create: true))))
        """)
        let graph = try reader.load().graph
        XCTAssertEqual(graph.signature, ["console", "kv"], "the job takes the writable store as the type it asked for")
        XCTAssertEqual(graph.devices.last?.type, "kv-writer")
    }

    /// The DSL's cache is keyed by the compiler's version: it must really be read
    /// (swiftc is a link that answers --version only by its own name).
    func testTheCompilersVersionIsReadForTheCacheKey() throws {
        let loader = try self.loader(for: "import MirageConfig\n")
        XCTAssertTrue(loader.swiftcVersion().contains("Swift version"), loader.swiftcVersion())
    }

    func testWrongNumberOfDevices() throws {
        var loader = try loader(for: """
        import MirageConfig
        let main = Job("Hello", needs: .console, .clock)
        register("hello", main(defaultConsole))
        """)
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift:3: error: 'Hello' needs 2 devices (console, clock), but is applied to 1"), text)
    }

    func testSwiftSyntaxErrorShowsItsOwnFileAndLine() throws {
        var loader = try loader(for: """
        import MirageConfig
        let main = Job("Hello", needs: .console, .clock
        register("hello", main(defaultConsole, defaultClock))
        """)
        // Run from the unikernel's folder, as a person does.
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(loader.directory.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift does not compile"), text)
        XCTAssertTrue(text.contains("config.swift:2:"), text)
        XCTAssertFalse(text.contains(loader.directory.path), "paths are shown as config.swift, not buried: \(text)")
    }

    func testMissingRegisterIsAnError() throws {
        var loader = try loader(for: "import MirageConfig\nlet main = Job(\"Hello\", needs: .console)\n")
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("never calls register"), text)
    }

    func testBadKeyNameIsAnErrorWithLine() throws {
        var loader = try loader(for: """
        import MirageConfig
        let bad = Key.boot("not a name", doc: "x", default: 1)
        let main = Job("Hello", needs: .console, keys: [bad])
        register("hello", main(defaultConsole))
        """)
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift:2: error: 'not a name' is not a valid key name"), text)
    }
}
