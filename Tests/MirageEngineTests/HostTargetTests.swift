import Foundation
import XCTest
@testable import MirageEngine

/// The host target (`--target host`): the unikernel as a Linux process.
/// Its boot tests (hello, entropy, time, trap, stdlib, kv on each store,
/// counter, kv-crash, the sanitizer fixture) run through `mirage-config
/// test` in scripts/test; these check what a boot test cannot see.
final class HostTargetTests: XCTestCase {
    func testHostBoardHasNoMemoryMapAndTakesTheHostToolchain() throws {
        let board = try Fixtures.board("host")
        XCTAssertTrue(board.isProcess)
        XCTAssertNil(board.memory)
        XCTAssertEqual(try Toolchain.load(Toolchain.defaultName, for: board, from: Fixtures.installation).name, "host")
        let text = errorText { _ = try Toolchain.load("gnu", for: board, from: Fixtures.installation) }
        XCTAssertTrue(text.contains("the gnu toolchain builds board images, and the host target is a host program"), text)
        let sanitized = errorText {
            let folder = try Fixtures.copy(example: "examples/hello")
            _ = try Workspace(installation: Fixtures.installation, directory: folder).configure(target: "virt", sanitizer: .address)
        }
        XCTAssertTrue(sanitized.contains("--sanitize address is for the host target"), sanitized)
    }

    /// After an edit of the job, only the job's file is compiled again: the
    /// runtime's and the drivers' objects stay as they were.
    func testAnEditOfTheJobRecompilesOnlyItsFile() throws {
        try requireSystemTests()
        let folder = try Fixtures.copy(example: "examples/hello")
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "host"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let objects = folder.appendingPathComponent("_build/obj/swift")
        func stamps() throws -> [String: Date] {
            var result: [String: Date] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: objects.path) where name.hasSuffix(".o") {
                result[name] = try FileManager.default.attributesOfItem(atPath: objects.appendingPathComponent(name).path)[.modificationDate] as? Date
            }
            return result
        }
        let before = try stamps()
        Thread.sleep(forTimeInterval: 1.1)
        let job = folder.appendingPathComponent("unikernel.swift")
        try String(contentsOf: job, encoding: .utf8).replacingOccurrences(of: "Goodbye after", with: "Farewell after")
            .write(to: job, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let after = try stamps()
        let recompiled = after.keys.filter { after[$0] != before[$0] }.sorted()
        XCTAssertEqual(recompiled.count, 1, "recompiled: \(recompiled)")
        XCTAssertTrue(recompiled.first?.hasSuffix("-unikernel.o") == true, "recompiled: \(recompiled)")
        XCTAssertGreaterThan(before.count, 20, "the runtime and drivers are objects of their own")
        let (status, output) = try ToolRun.run(["run"], in: folder)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("Farewell after"), output)
        // run --timings: the program counts nanoseconds from its main() to the job, as a board counts cycles from reset.
        let (_, timed) = try ToolRun.run(["run", "--timings"], in: folder)
        XCTAssertTrue(timed.contains("timings: program start to first output"), timed)
        XCTAssertGreaterThan(try XCTUnwrap(Runner.cyclesToJob(in: timed), timed), 0)
    }

    /// `run --dry-run` shows the program and the arguments a boot gives it:
    /// boot keys as given, a disk as the host driver's `process:` argument.
    func testDryRunShowsTheProgramWithItsDiskAndKeys() throws {
        try requireSystemTests()
        let folder = try Fixtures.copy(example: "examples/kv")
        try FileManager.default.copyItem(at: Fixtures.installation.root.appendingPathComponent("examples/kv/htdocs"),
                                         to: folder.appendingPathComponent("htdocs"))
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "host", "--store", "tar"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let (status, output) = try ToolRun.run(["run", "--dry-run", "--disk", "data=other.tar", "--fail-writes-after", "data=3"], in: folder)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.hasPrefix("dist/kv.elf --mirage.disk.data="), output)
        XCTAssertTrue(output.contains("/other.tar --mirage.fail-writes-after.data=3"), output)
        let refused = try ToolRun.run(["run", "--net", "user"], in: folder)
        XCTAssertTrue(refused.1.contains("is for a unikernel with a network device") || refused.1.contains("not for the host target"), refused.1)
    }

    /// `run --debug`: the program under a debugger, which stops at the crash
    /// and shows the job's source line.
    func testDebuggerStopsAtTheCrashWithTheJobsSourceLine() throws {
        try requireSystemTests()
        let folder = try Fixtures.copy(example: "Tests/Fixtures/trap")
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "host"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let run = try ToolRun(["run", "--debug", "--", "--crash=fatal-error"], in: folder, input: "run\nbt\nquit\n")
        _ = run.finish(seconds: 120)
        XCTAssertTrue(run.output.contains("Fatal error: the job gave up"), run.output)
        // A frame of the debugger's backtrace, not the runtime's own message.
        XCTAssertTrue(run.output.split(separator: "\n").contains { $0.contains(" at ") && $0.contains("unikernel.swift:18") }, run.output)
    }
}
