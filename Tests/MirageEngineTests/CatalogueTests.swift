import MirageConfig
@testable import MirageEngine
import XCTest

/// The catalogue (`list boards|devices|drivers`) and the DSL declarations it
/// and config.swift's "devices that fit" are read from.
final class CatalogueTests: XCTestCase {
    func testTheDSLsDeclarationsAreReadWhole() throws {
        let declarations = try DSLDeclarations.read(installation: Fixtures.installation)
        XCTAssertEqual(declarations.types.map(\.name), ["block", "clock", "console", "entropy", "entropy-source", "interrupt-controller",
                                                        "kv", "kv-writer", "network", "stack", "tls", "wall-clock", "rtc"])
        XCTAssertEqual(declarations.types.first { $0.name == "kv-writer" }?.standsInFor, ["kv"])
        let byType = Dictionary(grouping: declarations.constructors, by: \.type).mapValues { $0.map(\.name).sorted() }
        XCTAssertEqual(byType, [
            "block": ["disk(_:image:size:create:driver:)"],
            "console": ["defaultConsole", "ns16550Console(name:)", "pl011Console(name:)"],
            "clock": ["defaultClock", "genericTimer(name:)", "sp804Timer(name:)", "sunxiTimer(name:)"],
            "interrupt-controller": ["defaultInterruptController"],
            "entropy": ["defaultEntropy", "entropy(sources:clock:name:)"],
            "entropy-source": ["deviceTreeSeed", "jitter(clock:)", "virtioRNG()"],
            "kv": ["crunch(_:name:)", "crunch(git:ref:name:)", "gitRemote(_:url:ref:every:keepingIn:name:)", "gitStore(on:ref:name:)", "tarStore(on:name:)"],
            "kv-writer": ["littlefsStore(on:name:)"],
            "network": ["defaultNetwork"],
            "stack": ["genericStack(network:address:random:name:)", "socketStack(random:name:)"],
            "tls": ["tlsClient(on:keys:trustAnchors:applicationProtocols:random:wallClock:name:)",
                    "tlsServer(on:keys:certificates:applicationProtocols:random:name:)"],
            "wall-clock": ["defaultWallClock"],
        ])
        let stack = try XCTUnwrap(declarations.constructors.first { $0.name.hasPrefix("genericStack(") })
        XCTAssertEqual(Set(stack.keys), ["ip-mode", "ipv4", "ipv4-gateway", "ipv6", "ipv6-gateway", "dns", "hosts", "net"])
        XCTAssertEqual(declarations.constructors.first { $0.name == "defaultEntropy" }?.keys, ["entropy-policy", "entropy-jitter"],
                       "its own key, and that of the jitter source it gathers from")
        XCTAssertEqual(declarations.constructors.first { $0.name == "jitter(clock:)" }?.keys, ["entropy-jitter"])
        XCTAssertTrue(declarations.constructors.allSatisfy { !$0.doc.isEmpty }, "every constructor has its doc comment")
        XCTAssertEqual(declarations.constructors(fitting: "kv").map(\.name).sorted(),
                       ["crunch(_:name:)", "crunch(git:ref:name:)", "gitRemote(_:url:ref:every:keepingIn:name:)", "gitStore(on:ref:name:)",
                        "littlefsStore(on:name:)", "tarStore(on:name:)"])
        XCTAssertEqual(declarations.constructors.first { $0.name.hasPrefix("gitRemote(") }?.keys, ["git-remote", "git-pull-every"])
    }

    func testADevicePackagesDeclarationsAreReadAlike() throws {
        let package = try DevicePackage.load(from: Fixtures.installation.root.appendingPathComponent("examples/packages/watchdog"))
        let declarations = try DSLDeclarations.read(installation: Fixtures.installation, packages: [package])
        let watchdog = try XCTUnwrap(declarations.constructors.first { $0.type == "watchdog" })
        XCTAssertEqual(watchdog.name, "softwareWatchdog(clock:name:)")
        XCTAssertEqual(watchdog.module, "Watchdog")
        XCTAssertEqual(watchdog.keys, ["watchdog-timeout"])
        XCTAssertEqual(declarations.types.last?.doc, "A watchdog: it expires unless the job feeds it in time.")
    }
}

extension CatalogueTests {
    /// The README's tables of boards and device types are `list --markdown`'s.
    func testTheReadmesTablesAreTheCatalogues() throws {
        let readme = try String(contentsOf: Fixtures.installation.root.appendingPathComponent("README.md"), encoding: .utf8)
        let catalogue = try Catalogue.read(installation: Fixtures.installation)
        for (topic, table) in [("boards", catalogue.boardsMarkdown), ("devices", catalogue.devicesMarkdown)] {
            let start = try XCTUnwrap(readme.range(of: "<!-- mirage-config list \(topic) --markdown -->\n"), "README marks the \(topic) table")
            let end = try XCTUnwrap(readme.range(of: "<!-- end of list \(topic) -->", range: start.upperBound..<readme.endIndex))
            XCTAssertEqual(String(readme[start.upperBound..<end.lowerBound]), table,
                           "README.md's \(topic) table differs from the catalogue: paste `mirage-config list \(topic) --markdown` there")
        }
    }

    /// What binds where, as `list boards` says it, is what configure binds.
    func testTheCatalogueSaysWhatConfigureBinds() throws {
        let catalogue = try Catalogue.read(installation: Fixtures.installation)
        let virt = try XCTUnwrap(catalogue.boards.first { $0.name == "virt" })
        let uart = try XCTUnwrap(virt.hardware.first { $0.name == "uart0" })
        XCTAssertEqual(uart.drivers.map(\.driver), ["pl011"])
        XCTAssertEqual(uart.defaultFor, ["console"])
        for board in catalogue.boards {
            let resolved = try Fixtures.resolve(Fixtures.graph([MirageConfig.defaultConsole, MirageConfig.defaultClock]), on: board.name)
            for device in resolved.devices {
                let hardware = try XCTUnwrap(board.hardware.first { $0.name == device.peripheral }, "\(board.name): \(device.name)")
                XCTAssertTrue(hardware.drivers.contains { $0.driver == device.driver }, "\(board.name): \(device.driver) on \(hardware.name)")
            }
        }
        let pl181 = try XCTUnwrap(catalogue.drivers.first { $0.name == "pl181" })
        XCTAssertEqual(pl181.boards, ["vexpress-a9"])
        XCTAssertEqual(pl181.kind, "hardware")
        XCTAssertGreaterThan(pl181.sourceLines, 50)
        XCTAssertEqual(catalogue.drivers.first { $0.name == "net-wire" }?.kind, "library")
        XCTAssertEqual(catalogue.drivers.first { $0.name == "entropy-pool" }?.kind, "software")
        let json = try JSONSerialization.jsonObject(with: Data(try catalogue.json("boards").utf8)) as? [[String: Any]]
        XCTAssertEqual(json?.compactMap { $0["name"] as? String }, catalogue.boards.map(\.name))
    }

    /// `list` in a unikernel's folder adds the device packages config.swift imports.
    func testListInAUnikernelFolderShowsItsPackages() throws {
        let (status, output) = try ToolRun.run(["list", "devices", "-C", Fixtures.installation.root.appendingPathComponent("examples/uses-package").path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("watchdog (.watchdog, from Watchdog)") && output.contains("softwareWatchdog(clock:name:)"), output)
        XCTAssertTrue(output.contains("--watchdog-timeout (boot)"), output)
    }

    /// In a built unikernel's folder, `list drivers` says what each driver
    /// adds to the image, traced from its symbols to the names its sources declare.
    func testListDriversInABuiltFolderGivesEachDriversBytes() throws {
        try requireSystemTests()
        let folder = try Fixtures.copy(example: "examples/hello")
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "virt"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let (status, output) = try ToolRun.run(["list", "drivers", "--json"], in: folder)
        XCTAssertEqual(status, 0, output)
        let drivers = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]], output)
        func bytes(_ name: String) -> Int? { drivers.first { $0["name"] as? String == name }?["imageBytes"] as? Int }
        // virt's console, clock and interrupt controller are in hello; the A10's are not.
        for driver in ["pl011", "generic-timer", "gic"] {
            XCTAssertGreaterThan(bytes(driver) ?? 0, 0, "\(driver): \(output)")
        }
        XCTAssertNil(bytes("ns16550"))
        XCTAssertNil(bytes("sunxi-timer"))
    }
}
