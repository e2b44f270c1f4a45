import Foundation
@testable import MirageEngine
import XCTest

/// Real builds of examples/hello in a scratch copy.
final class BuildTests: XCTestCase {
    func copyOfHello() throws -> Workspace {
        let folder = try Fixtures.temporaryFolder().appendingPathComponent("hello")
        let example = Fixtures.installation.root.appendingPathComponent("examples/hello")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in ["config.swift", "unikernel.swift"] {
            try FileManager.default.copyItem(at: example.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        return Workspace(installation: Fixtures.installation, directory: folder)
    }

    func testImageCarriesOnlyTheDriversItsConfigurationUses() throws {
        try requireSystemTests()
        let workspace = try copyOfHello()
        _ = try workspace.configure(target: "cubieboard")
        let result = try Builder(workspace: workspace).build()
        let symbols = try ElfImage.symbols(of: result.image).joined(separator: "\n")
        XCTAssertTrue(symbols.contains("7NS16550"), "the cubieboard's UART driver is in")
        XCTAssertTrue(symbols.contains("10SunxiTimer"), "the cubieboard's timer driver is in")
        for absent in ["5PL011", "5SP804", "12GenericTimer", "3GIC"] {
            XCTAssertFalse(symbols.contains(absent), "\(absent) is not used on the cubieboard but is in the image")
        }
        XCTAssertTrue(result.sections.contains { $0.name == ".text" && $0.address == 0x4001_0000 })
        // The manifest rides in the ELF as a note, read back with libelf.
        let note = try XCTUnwrap(try ManifestNote.read(from: result.image))
        let manifest = try JSONDecoder().decode(Manifest.self, from: note)
        XCTAssertEqual(manifest.board.name, "cubieboard")
        XCTAssertEqual(manifest.devices.map(\.driver), ["ns16550", "sun4i-ic", "sunxi-timer"])
        XCTAssertEqual(manifest.image, "dist/hello.elf")
        XCTAssertFalse(result.sections.contains { $0.name == ManifestNote.section && $0.isAllocated }, "the note is not loaded")
        let raw = try Data(contentsOf: XCTUnwrap(result.rawImage))
        XCTAssertGreaterThan(raw.count, 1000)
        XCTAssertLessThan(raw.count, 1 << 20, "the raw image must not be padded over .bss, stacks and heap")
    }

    func testFailedBuildLeavesTheLastGoodImage() throws {
        try requireSystemTests()
        let workspace = try copyOfHello()
        _ = try workspace.configure(target: "virt")
        let good = try Builder(workspace: workspace).build()
        let before = try Data(contentsOf: good.image)
        try "struct Hello { static func start(console: some Console, clock: some Clock) -> Int32 { undefinedName } }\n"
            .write(to: workspace.directory.appendingPathComponent("unikernel.swift"), atomically: true, encoding: .utf8)
        let text = errorText { _ = try Builder(workspace: workspace).build() }
        XCTAssertTrue(text.contains("the last good image is untouched"), text)
        XCTAssertTrue(text.contains("unikernel.swift:1:"), "the compiler's own file:line is shown: \(text)")
        XCTAssertEqual(try Data(contentsOf: good.image), before)
        XCTAssertTrue(FileManager.default.fileExists(atPath: good.rawImage!.path))
    }

    /// The runtime and the drivers are compiled once per set of sources and
    /// flags, and kept in the cache: a second unikernel with the same drivers
    /// takes them from there, and an edit of the job compiles only the job's
    /// module. `--whole-image` compiles all of it as one module, for a
    /// smaller image.
    func testRuntimeIsCompiledOnceAndAnEditCompilesOnlyTheJob() throws {
        try requireSystemTests()
        let cache = try Fixtures.temporaryFolder().appendingPathComponent("cache")
        func build(_ workspace: Workspace) throws -> (steps: [String], image: Data) {
            var builder = Builder(workspace: workspace)
            builder.cacheFolder = cache
            var steps: [String] = []
            builder.log = { steps.append($0) }
            let result = try builder.build()
            return (steps, try Data(contentsOf: XCTUnwrap(result.rawImage)))
        }
        let first = try copyOfHello(), second = try copyOfHello()
        _ = try first.configure(target: "virt")
        _ = try second.configure(target: "virt")
        let built = try build(first)
        XCTAssertTrue(built.steps.contains { $0.contains("the runtime and drivers") }, "\(built.steps)")
        let again = try build(second)
        XCTAssertFalse(again.steps.contains { $0.contains("the runtime and drivers") }, "from the cache: \(again.steps)")
        XCTAssertTrue(again.steps.contains { $0.hasPrefix("swiftc  2 files (the unikernel and its glue)") }, "\(again.steps)")
        XCTAssertEqual(again.image, built.image, "the same sources make the same image, wherever they are")
        let job = first.directory.appendingPathComponent("unikernel.swift")
        try String(contentsOf: job, encoding: .utf8).replacingOccurrences(of: "Goodbye after", with: "Farewell after")
            .write(to: job, atomically: true, encoding: .utf8)
        let edited = try build(first)
        XCTAssertEqual(edited.steps.filter { $0.hasPrefix("swiftc") }, ["swiftc  2 files (the unikernel and its glue)"])
        XCTAssertNotNil(edited.image.range(of: Data("Farewell after".utf8)))
        // One module: every file compiled together, and a smaller image for it.
        _ = try first.configure(target: "virt", wholeImage: true)
        let whole = try build(first)
        XCTAssertTrue(whole.steps.contains { $0.hasPrefix("swiftc") && $0.contains("runtime and drivers") && !$0.contains("cache") }, "\(whole.steps)")
        XCTAssertLessThanOrEqual(whole.image.count, edited.image.count)
        XCTAssertNotNil(whole.image.range(of: Data("Farewell after".utf8)))
        let refused = errorText { _ = try first.configure(target: "host", wholeImage: true) }
        XCTAssertTrue(refused.contains("--whole-image is for board images"), refused)
    }
}
