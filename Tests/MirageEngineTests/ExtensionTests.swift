import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// What it takes to extend the tool: a device package from outside it, a
/// board added as files, a driver added as a folder.
final class ExtensionTests: XCTestCase {
    let root = Fixtures.installation.root

    /// The tool's own sources, boards, qemu profiles and toolchains know nothing of the package's device.
    func testToolNamesNothingOfTheExamplePackage() throws {
        var named: [String] = []
        for folder in ["Sources", "targets", "qemu", "toolchains"] {
            let files = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)!
            for case let file as URL in files where ["swift", "c", "S", "yaml", "h"].contains(file.pathExtension) {
                let text = try String(contentsOf: file, encoding: .utf8).lowercased()
                if text.contains("watchdog") { named.append(file.path) }
            }
        }
        XCTAssertEqual(named, [], "the tool must not name the example package's device")
        let package = try DevicePackage.load(from: root.appendingPathComponent("examples/packages/watchdog"))
        XCTAssertEqual(package.name, "Watchdog")
        let drivers = try DriverCatalog(installation: Fixtures.installation, packages: [package])
        XCTAssertEqual(try drivers.driver("software-watchdog").provides, "watchdog")
        XCTAssertThrowsError(try Fixtures.drivers.driver("software-watchdog"), "only configs that import the package see its driver")
    }

    /// Hardware lives in board, qemu-profile and driver data: the engine's
    /// Swift names no SoC's firmware, no qemu device and no store format
    /// (a store's driver packs and reads its images with its host tool).
    func testTheEngineNamesNoFirmwareNoQemuDeviceAndNoStoreFormat() throws {
        let files = FileManager.default.enumerator(at: root.appendingPathComponent("Sources/MirageEngine"), includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift" {
            let code = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            let text = code.joined(separator: "\n")
            for word in ["u-boot-sunxi", "virtio-net-device", "virtio-blk-device", "virtio-rng-device", "allwinner-", "Cubieboard/",
                         "ustar", "--format="] {
                XCTAssertFalse(text.contains(word), "\(file.lastPathComponent) names \(word)")
            }
        }
    }

    func testConfigUsingThePackageResolvesOnEveryBoard() throws {
        let folder = try Fixtures.temporaryFolder().appendingPathComponent("uses-package")
        try FileManager.default.copyItem(at: root.appendingPathComponent("examples/uses-package"), to: folder)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("_build"))
        // The package is found relative to config.swift: point it at the repository's copy.
        let config = folder.appendingPathComponent("config.swift")
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: "../packages/watchdog", with: root.appendingPathComponent("examples/packages/watchdog").path)
        try text.write(to: config, atomically: true, encoding: .utf8)
        let workspace = Workspace(installation: Fixtures.installation, directory: folder)
        for board in Fixtures.boards {
            let configured = try workspace.configure(target: board.name).configuration
            XCTAssertEqual(configured.device(named: "watchdog")?.driver, "software-watchdog", board.name)
            XCTAssertEqual(configured.device(named: "watchdog")?.arguments, ["clock"], board.name)
            XCTAssertEqual(configured.packages.map(\.name), ["Watchdog"])
            let glue = try String(contentsOf: workspace.glueFile, encoding: .utf8)
            XCTAssertTrue(glue.contains("let watchdog = SoftwareWatchdog(clock: clock, timeoutMilliseconds: Keys.watchdogTimeout)"), glue)
        }
    }

    func testPackageThatIsNotThereIsAnErrorAtItsLine() throws {
        let folder = try Fixtures.temporaryFolder()
        try """
        import MirageConfig
        import Gadget // package: ../no-such-package
        register("x", Job("X", needs: .console)(defaultConsole))
        """.write(to: folder.appendingPathComponent("config.swift"), atomically: true, encoding: .utf8)
        var loader = ConfigLoader(installation: Fixtures.installation, directory: folder)
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift:2: error: the device package at '../no-such-package' cannot be used"), text)
        XCTAssertTrue(text.contains("mirage-package.yaml"), text)
    }

    func testPackageImportedUnderAnotherNameIsAnError() throws {
        let folder = try Fixtures.temporaryFolder()
        try """
        import MirageConfig
        import Dog // package: \(root.appendingPathComponent("examples/packages/watchdog").path)
        """.write(to: folder.appendingPathComponent("config.swift"), atomically: true, encoding: .utf8)
        var loader = ConfigLoader(installation: Fixtures.installation, directory: folder)
        let text = errorText { _ = try loader.load() }
        XCTAssertTrue(text.contains("config.swift:2: error: the package at"), text)
        XCTAssertTrue(text.contains("import Watchdog // package:"), text)
    }

    /// A board is its files: copied under a new name into an installation
    /// of its own, it configures, builds and boots hello with no other change.
    func testBoardAddedAsFilesBootsHello() throws {
        try requireSystemTests()
        let original = try XCTUnwrap(Fixtures.boards.first)
        let profile = try XCTUnwrap(original.qemu)
        let installation = try Fixtures.temporaryFolder().appendingPathComponent("mirage")
        let manager = FileManager.default
        try manager.createDirectory(at: installation, withIntermediateDirectories: true)
        for shared in ["Sources", "toolchains"] {
            try manager.createSymbolicLink(at: installation.appendingPathComponent(shared), withDestinationURL: root.appendingPathComponent(shared))
        }
        for folder in ["targets", "qemu"] { try manager.copyItem(at: root.appendingPathComponent(folder), to: installation.appendingPathComponent(folder)) }
        let board = try String(contentsOf: root.appendingPathComponent("targets/\(original.name).yaml"), encoding: .utf8)
            .replacingOccurrences(of: "name: \(original.name)\n", with: "name: newboard\n")
            .replacingOccurrences(of: "aliases: [\(original.aliases.joined(separator: ", "))]", with: "aliases: []")
            .replacingOccurrences(of: "qemu: \(profile)\n", with: "qemu: newboard\n")
        try board.write(to: installation.appendingPathComponent("targets/newboard.yaml"), atomically: true, encoding: .utf8)
        try manager.copyItem(at: root.appendingPathComponent("qemu/\(profile).yaml"), to: installation.appendingPathComponent("qemu/newboard.yaml"))

        let folder = installation.appendingPathComponent("hello")
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in ["config.swift", "unikernel.swift"] {
            try manager.copyItem(at: root.appendingPathComponent("examples/hello/\(file)"), to: folder.appendingPathComponent(file))
        }
        let workspace = Workspace(installation: Installation(root: installation), directory: folder)
        XCTAssertEqual(try workspace.configure(target: "newboard", keyValues: ["count": "1"]).configuration.board, "newboard")
        _ = try Builder(workspace: workspace).build()
        let outcome = try Runner(workspace: workspace).run(timeout: 60) { _ in }
        XCTAssertTrue(outcome.console.contains("Hello from newboard: Hello, world (1/1)"), outcome.console)
        XCTAssertEqual(outcome.status, 0, outcome.console)
    }

    /// A driver folder in a package: its descriptor is checked and its glue filled in.
    func package(withDriver descriptor: String) throws -> DevicePackage {
        let folder = try Fixtures.temporaryFolder()
        try "name: Gadgets\n".write(to: folder.appendingPathComponent(DevicePackage.descriptorName), atomically: true, encoding: .utf8)
        let driver = folder.appendingPathComponent("Drivers/gadget")
        try FileManager.default.createDirectory(at: driver, withIntermediateDirectories: true)
        try descriptor.write(to: driver.appendingPathComponent(Driver.descriptorName), atomically: true, encoding: .utf8)
        try "final class Gadget {}\n".write(to: driver.appendingPathComponent("Gadget.swift"), atomically: true, encoding: .utf8)
        return try DevicePackage.load(from: folder)
    }

    func testDriverDescriptorWithAnUnknownFieldIsAnError() throws {
        let package = try package(withDriver: "name: gadget\nprovides: gadget\ntype: Gadget\ncompatibles: [\"x,y\"]\n")
        let text = errorText { _ = try DriverCatalog(installation: Fixtures.installation, packages: [package]) }
        XCTAssertTrue(text.contains("Drivers/gadget/driver.yaml: unknown field 'compatibles'"), text)
        XCTAssertTrue(text.contains("compatible"), text)
    }

    func testDriverThatClashesWithTheToolsIsAnError() throws {
        let package = try package(withDriver: "name: pl011\nprovides: console\ntype: Gadget\n")
        let text = errorText { _ = try DriverCatalog(installation: Fixtures.installation, packages: [package]) }
        XCTAssertTrue(text.contains("two drivers are named 'pl011'"), text)
    }

    /// A console from a package's software driver whose glue is `glue`, resolved on virt.
    func gadgetConsole(glue: String, parameters: [String: String] = [:]) throws -> (DriverCatalog, ResolvedConfiguration) {
        let package = try package(withDriver: "name: gadget\nprovides: console\ntype: Gadget\nglue: [\"\(glue)\"]\n")
        let drivers = try DriverCatalog(installation: Fixtures.installation, packages: [package])
        let device = Device(.console, name: "console", implementation: .driver("gadget"), parameters: parameters)
        return (drivers, try Resolver(graph: Fixtures.graph([device]), board: try Fixtures.board("virt"), drivers: drivers,
                                      target: "virt").resolve())
    }

    func testGlueTemplateNamesTheDriverWhenItCannotBeFilled() throws {
        let (drivers, configuration) = try gadgetConsole(glue: "let {name} = Gadget(speed: {parameter.speed})")
        XCTAssertNil(configuration.device(named: "console")?.peripheral, "a software driver binds to no hardware")
        let text = errorText { _ = try GlueEmitter(configuration: configuration, drivers: drivers).source() }
        XCTAssertTrue(text.contains("the driver 'gadget'"), text)
        XCTAssertTrue(text.contains("reads the parameter 'speed', which the device 'console' does not set"), text)
        XCTAssertEqual(try drivers.driver("gadget").sourceFiles().map(\.lastPathComponent), ["Gadget.swift"])
    }

    func testParametersReachTheGlueAsEscapedSwiftLiterals() throws {
        let (drivers, configuration) = try gadgetConsole(glue: "let {name} = Gadget(label: {parameter.label})",
                                                         parameters: ["label": "a \"quoted\"\nline\\"])
        let glue = try GlueEmitter(configuration: configuration, drivers: drivers).source()
        XCTAssertTrue(glue.contains(#"let console = Gadget(label: "a \"quoted\"\nline\\")"#), glue)
    }

    /// A failed link that lacks a symbol some driver defines gets that driver's fix.
    /// (configuration.json keeps every driver's fixes, the drivers the image lacks included).
    func testMissingDriverSymbolGetsTheDriversFix() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole]), on: "virt")
        XCTAssertFalse(configuration.drivers.contains { $0.name == "entropy-pool" })
        let output = "ld.lld: error: undefined symbol: arc4random_buf\n>>> referenced by unikernel.o"
        XCTAssertEqual(configuration.fix(forMissingSymbolIn: output),
                       "Hashable, Set and random() need randomness: add an entropy device (defaultEntropy) to the job in config.swift")
        XCTAssertNil(configuration.fix(forMissingSymbolIn: "ld.lld: error: undefined symbol: frobnicate"))
    }
}
