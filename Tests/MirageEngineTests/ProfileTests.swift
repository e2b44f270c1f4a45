@testable import MirageEngine
import XCTest

/// `run --profile`: the gdb remote codec, the naming and folding of stacks,
/// and real profiles of booted images (the sampler against QEMU's gdbstub).
final class ProfileTests: XCTestCase {
    func testPacketsAreFramedWithTheirChecksum() throws {
        XCTAssertEqual(String(decoding: GDBPacket.encode("g"), as: UTF8.self), "$g#67")
        XCTAssertEqual(String(decoding: GDBPacket.encode("QStartNoAckMode"), as: UTF8.self), "$QStartNoAckMode#b0")
        // Acks before the packet are skipped; an incomplete packet is not yet one.
        let reply = try XCTUnwrap(try GDBPacket.decode(Array("++$OK#9a+".utf8)))
        XCTAssertEqual(reply.payload, "OK")
        XCTAssertEqual(reply.consumed, 8)
        XCTAssertNil(try GDBPacket.decode(Array("$OK#9".utf8)))
        XCTAssertThrowsError(try GDBPacket.decode(Array("$OK#00".utf8)))
    }

    func testRunLengthAndEscapesAreUndone() throws {
        // "0* " is '0' and 32 - 29 = 3 more of it; "}]" is ']' ^ 0x20 = '}'.
        let body = "0* 1}]"
        let sum = body.utf8.reduce(UInt8(0)) { $0 &+ $1 }
        let packet = "$\(body)#\(String(format: "%02x", sum))"
        XCTAssertEqual(try GDBPacket.decode(Array(packet.utf8))?.payload, "00001}")
        XCTAssertEqual(GDBPacket.words(fromHex: "78563412efbeadde00"), [0x1234_5678, 0xdead_beef])
    }

    func symbols() -> SymbolTable {
        SymbolTable([
            ElfImage.Symbol(name: "main", size: 0x40, address: 0x1000, isFunction: true),
            ElfImage.Symbol(name: "serve", size: 0x40, address: 0x1040, isFunction: true),
            ElfImage.Symbol(name: "checksum", size: 0x20, address: 0x1080, isFunction: true),
            ElfImage.Symbol(name: "table", size: 0x100, address: 0x1040, isFunction: false),
        ])
    }

    func testStacksAreNamedFoldedAndCounted() {
        var profile = Profile(symbols: symbols())
        profile.add([0x1084, 0x1051, 0x1011])       // checksum <- serve <- main
        profile.add([0x1085, 0x1051, 0x1011])
        profile.add([0x1041, 0x1011])                // serve <- main
        profile.add([0x2000, 0x1011])                // an address no function holds
        profile.add([])                              // not a sample
        // A return address is named by its call (address - 1): 0x1040 returns into the end of main.
        profile.add([0x1082, 0x1040])
        XCTAssertEqual(profile.folded, """
            main;0x2000 1
            main;checksum 1
            main;serve 1
            main;serve;checksum 2

            """)
        XCTAssertEqual(profile.top(2), [Profile.Line(function: "checksum", selfSamples: 3, totalSamples: 3),
                                        Profile.Line(function: "serve", selfSamples: 1, totalSamples: 3)])
        profile.nameFunctions { $0.map { $0 == "serve" ? "Server.serve(_;_)" : $0 } }
        XCTAssertTrue(profile.folded.contains("main;Server.serve(_,_);checksum 2"), "a ';' in a name would split the frame")
        let report = profile.report(top: 3, rate: 100)
        XCTAssertTrue(report.hasPrefix("profile: 5 samples at 100 Hz"), report)
        XCTAssertTrue(report.contains(" 60.0%   60.0%  checksum"), report)
    }

    /// A real profile of hello: nearly all of it asleep in the loop's idle
    /// step, under _start, named from the image; on every board.
    func testRunProfileSamplesABootedImage() throws {
        try requireSystemTests()
        for board in ["virt", "cubieboard"] {
            let folder = try Fixtures.copy(example: "examples/hello")
            XCTAssertEqual(try ToolRun.run(["configure", "--target", board], in: folder).0, 0)
            XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
            let (status, output) = try ToolRun.run(["run", "--profile", "--profile-rate", "500"], in: folder)
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(output.contains("Goodbye after"), output)
            XCTAssertTrue(output.contains("samples at 500 Hz"), output)
            XCTAssertTrue(output.contains("boot_wait_for_interrupt"), "\(board): the idle loop is where hello spends its time\n\(output)")
            let folded = try String(contentsOf: folder.appendingPathComponent("_build/profile/folded.txt"), encoding: .utf8)
            let lines = folded.split(separator: "\n")
            XCTAssertFalse(lines.isEmpty)
            XCTAssertTrue(lines.allSatisfy { Int($0.split(separator: " ").last ?? "") != nil }, folded)
            XCTAssertTrue(lines.contains { $0.hasPrefix("_start;") && $0.contains("boot_wait_for_interrupt") },
                          "\(board): stacks are walked to the reset code\n\(folded)")

            // run --timings: what each layer counted. hello sleeps 3 times, each woken by the clock's interrupt.
            let (timed, timings) = try ToolRun.run(["run", "--timings"], in: folder)
            XCTAssertEqual(timed, 0, timings)
            let counters = try XCTUnwrap(timings.split(separator: "\n").first { $0.hasPrefix("mirage: counters: ") }, timings)
            var counts: [String: Int] = [:]
            for item in counters.dropFirst("mirage: counters: ".count).split(separator: ",") {
                let words = item.split(separator: " ")
                counts[words.dropLast().joined(separator: " ")] = Int(words.last ?? "")
            }
            XCTAssertGreaterThanOrEqual(counts["interrupts"] ?? 0, 3, String(counters))
            XCTAssertGreaterThanOrEqual(counts["wake-ups"] ?? 0, 3, String(counters))
            XCTAssertGreaterThan(counts["allocations"] ?? 0, 0, String(counters))
            XCTAssertEqual(counts["frames in"], 0, "hello has no network: \(counters)")
        }
    }

    /// A server is stopped with Ctrl-C: the profile is still written, and
    /// nothing the tool started outlives it.
    func testCtrlCWritesTheProfile() throws {
        try requireSystemTests()
        let folder = try Fixtures.copy(example: "examples/hello")
        let config = folder.appendingPathComponent("config.swift")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "default: 3,", with: "default: 100,")
            .write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "virt"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let run = try ToolRun(["run", "--profile"], in: folder)
        XCTAssertTrue(run.waitFor("(3/100)"), run.output)
        kill(run.process.processIdentifier, SIGINT)
        XCTAssertEqual(run.finish(seconds: 60), 128 + SIGINT, run.output)
        XCTAssertTrue(run.output.contains("boot_wait_for_interrupt") && run.output.contains("stacks folded in"), run.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("_build/profile/folded.txt").path))
        XCTAssertTrue(processes(containing: folder.path).isEmpty, "\(processes(containing: folder.path))")
    }
}
