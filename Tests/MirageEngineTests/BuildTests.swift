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
}
