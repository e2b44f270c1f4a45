import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// The generated files, checked with the real tools that read them: dtc for
/// device trees, ld.lld for linker scripts.
final class EmitterTests: XCTestCase {
    func configured(_ target: String, keys: [KeyDeclaration] = [Fixtures.key("message", .string, "Hello, world")],
                    devices: [Device] = [defaultConsole, defaultClock]) throws -> (Board, ResolvedConfiguration) {
        (try Fixtures.board(target), try Fixtures.resolve(Fixtures.graph(devices, keys: keys), on: target))
    }

    func testDeviceTreeDecompilesWithoutWarningsOnEveryBoard() throws {
        for target in Fixtures.boards.map(\.name) {
            let (board, configuration) = try configured(target, devices: [defaultConsole, defaultClock, defaultEntropy])
            let tree = DeviceTreeEmitter(board: board, configuration: configuration).tree()
            let folder = try Fixtures.temporaryFolder()
            let dtb = folder.appendingPathComponent("board.dtb"), dts = folder.appendingPathComponent("board.dts")
            try tree.dtb().write(to: dtb)
            try tree.dts(header: "test").write(to: dts, atomically: true, encoding: .utf8)
            let decompiled = try Fixtures.run("dtc", ["-I", "dtb", "-O", "dts", dtb.path])
            XCTAssertEqual(decompiled.status, 0, target)
            XCTAssertEqual(decompiled.error, "", "dtc warns about the \(target) DTB")
            XCTAssertTrue(decompiled.output.contains("bootargs = \"--message=\\\"Hello, world\\\" --entropy-policy=strict --entropy-jitter=true\""),
                          decompiled.output)
            XCTAssertEqual(decompiled.output.contains("virtio_mmio@"), configuration.device(named: "virtioRNG") != nil, target)
            // The DTS text is valid too, and says the same as the DTB.
            let fromText = try Fixtures.run("dtc", ["-I", "dts", "-O", "dtb", "-o", folder.appendingPathComponent("text.dtb").path, dts.path])
            XCTAssertEqual(fromText.status, 0, fromText.error)
            XCTAssertEqual(fromText.error, "", "dtc warns about the \(target) DTS")
            let again = try Fixtures.run("dtc", ["-I", "dtb", "-O", "dts", folder.appendingPathComponent("text.dtb").path])
            XCTAssertEqual(again.output, decompiled.output, "DTS text and libfdt DTB differ on \(target)")
        }
    }

    func testDeviceTreeHasChosenMemoryAndOnlyConfiguredPeripherals() throws {
        let (board, configuration) = try configured("cubieboard")
        let text = DeviceTreeEmitter(board: board, configuration: configuration).tree().dts(header: "")
        XCTAssertTrue(text.contains("stdout-path = \"/serial@1c28000\""))
        XCTAssertTrue(text.contains("memory@40000000"))
        XCTAssertTrue(text.contains("reg = <0x40000000 0x40000000>"))
        XCTAssertTrue(text.contains("interrupt-controller@1c20400"))
        XCTAssertTrue(text.contains("dma@7ff00000"), text)
        XCTAssertTrue(text.contains("reg-shift = <0x2>"))
    }

    func testBootArgumentsCanBeReplacedInTheBlob() throws {
        let (board, configuration) = try configured("virt")
        let dtb = try DeviceTreeEmitter(board: board, configuration: configuration).tree().dtb()
        XCTAssertEqual(DeviceTreeBlob.bootArguments(of: dtb), "--message=\"Hello, world\"")
        let edited = try DeviceTreeBlob.settingBootArguments(dtb, to: "--message=xyz")
        XCTAssertEqual(DeviceTreeBlob.bootArguments(of: edited), "--message=xyz")
        XCTAssertNil(DeviceTreeBlob.bootArguments(of: Data(repeating: 7, count: 100)))
    }

    /// Links a minimal program with the generated script.
    func link(_ script: String) throws -> Shell.Result {
        let folder = try Fixtures.temporaryFolder()
        let source = folder.appendingPathComponent("start.S"), object = folder.appendingPathComponent("start.o")
        try """
            .section .text.vectors, "ax"
            .global _start
        _start: b _start
            .section .data
            .word 1
        """.write(to: source, atomically: true, encoding: .utf8)
        let toolchain = try Toolchain.load("llvm", from: Fixtures.installation)
        let tools = try toolchain.resolveTools()
        XCTAssertEqual(try Shell.run(tools["cc"]!, ["--target=armv7-none-eabi", "-c", source.path, "-o", object.path]).status, 0)
        let scriptFile = folder.appendingPathComponent("linker.ld")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        return try Shell.run(tools["ld"]!, ["-T", scriptFile.path, object.path, "-o", folder.appendingPathComponent("a.elf").path])
    }

    func testLinkerScriptLinksOnEveryBoard() throws {
        for target in Fixtures.boards.filter({ !$0.isProcess }).map(\.name) {
            let (board, configuration) = try configured(target)
            let script = try LinkerScriptEmitter(board: board, configuration: configuration).script()
            XCTAssertTrue(script.contains("ORIGIN = 0x\(String(board.memory!.load, radix: 16))"))
            XCTAssertTrue(script.contains(".page_table (NOLOAD) : ALIGN(16384)"), "the MMU table needs 16 KiB alignment")
            XCTAssertTrue(script.contains("__ram_end = 0x\(String(board.memory!.ram.end, radix: 16));"))
            let result = try link(script)
            XCTAssertEqual(result.status, 0, "\(target): \(result.error)")
        }
    }

    func testLinkerScriptRefusesAnOverflowingHeapWithAReadableMessage() throws {
        let (board, configuration) = try configured("virt")
        let script = try LinkerScriptEmitter(board: board, configuration: configuration).script()
            .replacingOccurrences(of: ". += 0x1000000;", with: ". += 0x10000000;")   // a 256 MiB heap in 128 MiB
        let result = try link(script)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("mirage-config: image, stacks and heap overflow RAM") || result.error.contains("section '.heap' will not fit"),
                      result.error)
    }

    func testGlueBringsDevicesUpInOrderAndReadsKeys() throws {
        let (_, configuration) = try configured("vexpress-a9", keys: [Fixtures.key("message", .string, "hi"),
                                                                       Fixtures.key("boot-delay", .int, "2"),
                                                                       Fixtures.key("count", .int, "3", stage: .configure)])
        let glue = try GlueEmitter(configuration: configuration, drivers: Fixtures.drivers).source()
        let console = try XCTUnwrap(glue.range(of: "let console = PL011(tree: tree, path: \"/serial@10009000\")"))
        let attach = try XCTUnwrap(glue.range(of: "Runtime.attach(console: console)"))
        let interrupts = try XCTUnwrap(glue.range(of: "let interrupts = GIC(tree: tree, path: \"/interrupt-controller@1e001000\")"))
        let clock = try XCTUnwrap(glue.range(of: "let clock = SP804(tree: tree, path: \"/timer@10011000\", interrupts: interrupts)"))
        XCTAssertLessThan(interrupts.lowerBound, clock.lowerBound)
        XCTAssertLessThan(console.lowerBound, attach.lowerBound)
        XCTAssertLessThan(attach.lowerBound, clock.lowerBound)
        XCTAssertTrue(glue.contains("Keys.bootDelay = Runtime.bootKey(bootArguments, \"boot-delay\", default: Keys.bootDelay)"))
        XCTAssertTrue(glue.contains("static let count: Int = 3"))
        XCTAssertFalse(glue.contains("Runtime.bootKey(bootArguments, \"count\""), "configure-time keys are compiled in")
        XCTAssertTrue(glue.contains("Tasks.attach(clock: clock)"))
        let main = try XCTUnwrap(glue.range(of: "return Tasks.main {"), "the bring-up and the job run in the first task")
        XCTAssertLessThan(attach.lowerBound, main.lowerBound, "the console comes up before the loop")
        XCTAssertLessThan(main.lowerBound, clock.lowerBound)
        XCTAssertTrue(glue.contains("let status = Hello.start(console: console, clock: clock)"))
    }

    func testQemuCommandLoadsTheDeviceTreeAtTheReservedRegion() throws {
        let board = try Fixtures.board("vexpress-a9")
        let profile = try QemuProfile.load("vexpress-a9", from: Fixtures.installation)
        let command = QemuCommand(board: board, profile: profile, image: URL(fileURLWithPath: "/x/hello.elf"),
                                  deviceTree: URL(fileURLWithPath: "/x/board.dtb"))
        XCTAssertEqual(Array(command.arguments.prefix(4)), ["-M", "vexpress-a9", "-cpu", "cortex-a9"])
        XCTAssertTrue(command.arguments.contains("loader,file=/x/board.dtb,addr=0x60000000,force-raw=on"))
        XCTAssertTrue(command.arguments.contains("enable=on,target=native"))
    }
}
