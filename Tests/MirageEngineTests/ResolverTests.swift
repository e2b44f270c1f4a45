import MirageConfig
@testable import MirageEngine
import XCTest
import Yams

final class ResolverTests: XCTestCase {
    func resolve(_ graph: ConfigModel.Graph, on target: String, keys: [String: String] = [:]) throws -> ResolvedConfiguration {
        try Fixtures.resolve(graph, on: target, keys: keys)
    }

    func testBoardDefaultsDifferPerBoard() throws {
        let graph = Fixtures.graph([defaultConsole, defaultClock])
        let virt = try resolve(graph, on: "arm")
        XCTAssertEqual(virt.board, "virt")
        XCTAssertEqual(virt.devices.map(\.driver), ["pl011", "gic", "generic-timer"], "the clock's interrupt controller comes up before it")
        XCTAssertEqual(virt.devices.first?.path, "/serial@9000000")
        XCTAssertEqual(try resolve(graph, on: "vexpress-a9").devices.map(\.driver), ["pl011", "gic", "sp804"])
        let cubieboard = try resolve(graph, on: "cubieboard")
        XCTAssertEqual(cubieboard.devices.map(\.driver), ["ns16550", "sun4i-ic", "sunxi-timer"])
        XCTAssertEqual(cubieboard.devices.first?.path, "/serial@1c28000")
        XCTAssertEqual(cubieboard.jobArguments, ["console", "clock"])
    }

    func testEqualDevicesAreOneInstance() throws {
        let graph = Fixtures.graph([defaultConsole, defaultConsole, defaultClock])
        let resolved = try resolve(graph, on: "virt")
        XCTAssertEqual(resolved.devices.map(\.name), ["console", "interrupts", "clock"])
        XCTAssertEqual(resolved.jobArguments, ["console", "console", "clock"])
        XCTAssertEqual(resolved.devices.first?.usedAt.count, 2)
    }

    func testMatchOnTargetPicksPerBoard() throws {
        let console = Device.match(target: ["virt": pl011Console(), "cubieboard": ns16550Console()],
                                   default: defaultConsole, file: "config.swift", line: 7)
        let graph = Fixtures.graph([console, defaultClock])
        XCTAssertEqual(try resolve(graph, on: "arm").devices.first?.driver, "pl011")
        XCTAssertEqual(try resolve(graph, on: "cubieboard").devices.first?.driver, "ns16550")
        XCTAssertEqual(try resolve(graph, on: "vexpress-a9").devices.first?.driver, "pl011")
    }

    func testMatchWithoutFittingCaseNamesTheCases() {
        let console = Device.match(target: ["virt": pl011Console()], file: "config.swift", line: 7)
        let text = errorText { _ = try self.resolve(Fixtures.graph([console, defaultClock]), on: "cubieboard") }
        XCTAssertTrue(text.contains("config.swift:7: error: no case of this match fits target = 'cubieboard'"), text)
        XCTAssertTrue(text.contains("the cases are virt"), text)
    }

    func testBoardThatCannotProvideADeviceIsAnErrorWithLine() {
        let graph = Fixtures.graph([pl011Console(file: "config.swift", line: 5), defaultClock])
        let text = errorText { _ = try self.resolve(graph, on: "cubieboard") }
        XCTAssertTrue(text.contains("config.swift:5: error: the cubieboard board cannot provide a pl011 console"), text)
        XCTAssertTrue(text.contains("ns16550 (uart0)"), "says what would fit: \(text)")
    }

    func testTwoDevicesWithOneNameIsAnError() {
        let graph = Fixtures.graph([pl011Console(name: "io", file: "config.swift", line: 3),
                                    genericTimer(name: "io", file: "config.swift", line: 4)])
        let text = errorText { _ = try self.resolve(graph, on: "virt") }
        XCTAssertTrue(text.contains("config.swift:4: error: two different devices are both named 'io' (the other is config.swift:3)"), text)
    }

    func testTwoDevicesOnOnePeripheralIsAnError() {
        let graph = Fixtures.graph([pl011Console(name: "a"), defaultClock, pl011Console(name: "b")])
        let text = errorText { _ = try self.resolve(graph, on: "virt") }
        XCTAssertTrue(text.contains("both use the board's uart0"), text)
    }

    func testKeysTakeConfiguredValuesAndCheckTypes() throws {
        let graph = Fixtures.graph([defaultConsole, defaultClock],
                                   keys: [Fixtures.key("message", .string, "hi"), Fixtures.key("count", .int, "3", stage: .configure, line: 4)])
        let resolved = try resolve(graph, on: "virt", keys: ["count": "5"])
        XCTAssertEqual(resolved.keys.map(\.value), ["hi", "5"])
        let bad = errorText { _ = try self.resolve(graph, on: "virt", keys: ["count": "five"]) }
        XCTAssertTrue(bad.contains("config.swift:4: error: key 'count' does not take --count five: it is a whole number"), bad)
        let unknown = errorText { _ = try self.resolve(graph, on: "virt", keys: ["colour": "red"]) }
        XCTAssertTrue(unknown.contains("declares no key 'colour'") && unknown.contains("--message, --count") || unknown.contains("--count, --message"), unknown)
    }

    /// A board is checked against what its drivers read (their `node:`), as
    /// Zephyr checks a devicetree against its bindings: a `reg` one cell
    /// short is refused at configure, naming the board file and the node.
    func testABoardNodeThatLacksWhatItsDriverReadsIsRefused() throws {
        let file = Fixtures.installation.targetsDirectory.appendingPathComponent("virt.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        func resolveOnVirt(_ change: (String) -> String) -> String {
            errorText {
                let board = try YAMLDecoder().decode(Board.self, from: change(text))
                _ = try Resolver(graph: Fixtures.graph([defaultConsole, defaultClock]), board: board, drivers: Fixtures.drivers,
                                 target: "virt").resolve()
            }
        }
        let shortReg = resolveOnVirt { $0.replacingOccurrences(of: "reg: [0x09000000, 0x1000]", with: "reg: [0x09000000]") }
        XCTAssertTrue(shortReg.contains("targets/virt.yaml: the node serial@9000000 (uart0) lacks what the driver pl011 reads: reg needs 1 window(s)"), shortReg)
        XCTAssertTrue(shortReg.contains("it has 1 cell(s)"), shortReg)
        let oneInterrupt = resolveOnVirt { $0.replacingOccurrences(of: "interrupts: [1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104]",
                                                                   with: "interrupts: [1, 13, 0x104]") }
        XCTAssertTrue(oneInterrupt.contains("the node timer (timer) lacks what the driver generic-timer reads: interrupts needs 2 interrupt(s) of 3 cell(s)"),
                      oneInterrupt)
        let noCells = resolveOnVirt { $0.replacingOccurrences(of: "\"#interrupt-cells\": 3, ", with: "") }
        XCTAssertTrue(noCells.contains("the property #interrupt-cells is missing"), noCells)
    }

    /// Every board gives every driver that binds to its hardware what it reads.
    func testEveryBoardGivesItsDriversWhatTheyRead() {
        for board in Fixtures.boards {
            for peripheral in board.peripherals {
                for driver in Fixtures.drivers.drivers where driver.binds(to: peripheral) {
                    XCTAssertEqual(driver.node.shortfalls(of: peripheral, on: board), [], "\(board.name)'s \(peripheral.name) for \(driver.name)")
                }
            }
        }
        // The host target's drivers use the process's resources (stdout, clocks, files), not a node's.
        let boardDrivers = Fixtures.drivers.drivers.filter { $0.drivesHardware && !$0.compatible.allSatisfy { $0.hasPrefix("mirage,host-") } }
        XCTAssertTrue(boardDrivers.allSatisfy { $0.node.reg > 0 || $0.node.interrupts > 0 },
                      "every hardware driver says what it reads from its node")
    }

    func testUnknownTargetListsKnownBoards() {
        let text = errorText { _ = try Fixtures.board("raspberry") }
        XCTAssertTrue(text.contains("unknown target 'raspberry'"), text)
        for board in ["cubieboard", "vexpress-a9", "virt (arm)"] { XCTAssertTrue(text.contains(board), text) }
    }

    func testEveryBoardFileLoadsAndItsDefaultsHaveDrivers() throws {
        XCTAssertFalse(Fixtures.boards.isEmpty)
        for board in Fixtures.boards {
            XCTAssertNotNil(board.interruptController, board.name)
            // The host target is a process: no memory map, no qemu.
            if board.isProcess { continue }
            XCTAssertNotNil(board.memory?.reserved("dtb"), board.name)
            XCTAssertNoThrow(try QemuProfile.load(board.qemu ?? "", from: Fixtures.installation), board.name)
            // Each default is hardware some driver binds to, by compatible.
            for type in ["console", "clock"] {
                let name = try XCTUnwrap(board.defaults[type], "\(board.name) has no default \(type)")
                let hardware = try XCTUnwrap(board.peripheral(named: name), "\(board.name): default \(type) '\(name)' is not a peripheral")
                XCTAssertFalse(Fixtures.drivers.drivers(for: hardware, providing: type).isEmpty, "no driver binds \(board.name)'s \(name)")
            }
            let resolved = try resolve(Fixtures.graph([defaultConsole, defaultClock]), on: board.name)
            XCTAssertEqual(resolved.stdout, "console", board.name)
        }
    }
}

final class KeyArgumentsTests: XCTestCase {
    func testFormsOfKeysOnTheCommandLine() throws {
        XCTAssertEqual(try KeyArguments.parse(["--message", "hi there", "--count=3", "--verbose"]),
                       ["message": "hi there", "count": "3", "verbose": "true"])
        XCTAssertEqual(try KeyArguments.parse(["--flag", "--other=x"]), ["flag": "true", "other": "x"])
        XCTAssertEqual(try KeyArguments.parse([]), [:])
        let text = errorText { _ = try KeyArguments.parse(["stray"]) }
        XCTAssertTrue(text.contains("unexpected argument 'stray'"), text)
    }

    func testKeyNamesBecomeSwiftIdentifiers() {
        XCTAssertEqual(GlueEmitter.identifier("message"), "message")
        XCTAssertEqual(GlueEmitter.identifier("entropy-policy"), "entropyPolicy")
        XCTAssertEqual(GlueEmitter.identifier("a-b-c"), "aBC")
    }
}
