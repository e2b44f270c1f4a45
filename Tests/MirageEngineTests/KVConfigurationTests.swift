import Foundation
@testable import MirageConfig
@testable import MirageEngine
import XCTest

/// Key-value stores on the host side: which driver each constructor gets,
/// the folders crunch embeds, and the assembly that embeds them.
final class KVConfigurationTests: XCTestCase {
    func testStoresResolveToTheirDrivers() throws {
        let crunchOnly = try Fixtures.resolve(Fixtures.graph([defaultConsole, crunch("htdocs")]), on: "virt")
        XCTAssertEqual(crunchOnly.device(named: "kv")?.driver, "kv-crunch")
        XCTAssertEqual(crunchOnly.device(named: "kv")?.parameters, ["directory": "htdocs"])
        let onDisk = try Fixtures.resolve(Fixtures.graph([defaultConsole, tarStore(on: disk("data", image: "d.tar"))]), on: "cubieboard")
        XCTAssertEqual(onDisk.devices.map(\.driver), ["ns16550", "sun4i-ic", "sunxi-timer", "sunxi-mmc", "kv-tar"])
        XCTAssertEqual(onDisk.device(named: "kv")?.arguments, ["data"])
    }

    func testACrunchFolderMustExist() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, crunch("no-such-folder", file: "config.swift", line: 9)]), on: "virt")
        XCTAssertThrowsError(try EmbeddedData.folders(configuration, drivers: Fixtures.drivers, base: URL(fileURLWithPath: "/tmp"))) { error in
            XCTAssert("\(error)".contains("config.swift:9: the kv 'kv' embeds the folder 'no-such-folder', which does not exist"), "\(error)")
        }
    }

    func testTheEmbeddingAssemblyListsEachArchiveWithItsPathEscaped() {
        let text = EmbeddedData.source(["files"], archives: ["/odd \"dir\"\\x/files.tar"])
        XCTAssert(text.contains(".global mirage_embedded_table"))
        XCTAssert(text.contains(".dc.a embedded_name_0, embedded_start_0, embedded_end_0\n    .dc.a 0, 0, 0"), text)
        XCTAssert(text.contains(".asciz \"files\""))
        XCTAssert(text.contains(".incbin \"/odd \\\"dir\\\"\\\\x/files.tar\""), text)
    }

    func testGNUTarPacksReproducibly() throws {
        let folder = try Fixtures.temporaryFolder()
        try Data("b".utf8).write(to: folder.appendingPathComponent("b.txt"))
        try Data("a".utf8).write(to: folder.appendingPathComponent("a.txt"))
        let first = folder.appendingPathExtension("1.tar"), second = folder.appendingPathExtension("2.tar")
        try Fixtures.drivers.driver("kv-tar").pack(folder, into: first, installation: Fixtures.installation)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)],
                                              ofItemAtPath: folder.appendingPathComponent("a.txt").path)
        try Fixtures.drivers.driver("kv-tar").pack(folder, into: second, installation: Fixtures.installation)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "no date or owner in the archive")
        let names = try Fixtures.run("tar", ["-tf", first.path]).output.split(separator: "\n")
        XCTAssertEqual(names, ["./", "./a.txt", "./b.txt"])
    }

    func testTarStoreNeedsABlockDevice() {
        let before = Diagnostics.errors.count
        _ = tarStore(on: defaultConsole, file: "config.swift", line: 3)
        let errors = Array(Diagnostics.errors.dropFirst(before))
        Diagnostics.errors.removeLast(errors.count)
        XCTAssertEqual(errors.count, 1)
        XCTAssert(errors.first?.contains("config.swift:3: error: tarStore(on:) needs a block device, not a console") == true, "\(errors)")
    }
}
