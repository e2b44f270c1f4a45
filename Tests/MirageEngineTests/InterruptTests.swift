import Foundation
@testable import MirageEngine
import XCTest

/// Interrupts: a sleeping unikernel waits in `wfi` for its timer's
/// interrupt, so it costs its host almost nothing, on every board.
final class InterruptTests: XCTestCase {
    /// qemu's user + system CPU seconds so far, from /proc.
    func cpuSeconds(of pid: String) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func testSleepingUnikernelCostsItsHostLittleCPU() throws {
        try requireSystemTests()
        for board in Fixtures.boards {
            // hello printing 100 times, 200 ms apart: almost all of it asleep.
            let folder = try Fixtures.copy(example: "examples/hello")
            let config = folder.appendingPathComponent("config.swift")
            try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "default: 3,", with: "default: 100,")
                .write(to: config, atomically: true, encoding: .utf8)
            XCTAssertEqual(try ToolRun.run(["configure", "--target", board.name], in: folder).0, 0)
            XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
            let run = try ToolRun(["run"], in: folder)
            defer { kill(run.process.processIdentifier, SIGTERM); _ = run.finish() }
            XCTAssertTrue(run.waitFor("(3/100)"), run.output)
            // qemu, or on the host target the program itself (dist/hello.elf).
            let qemu = try XCTUnwrap(processes(containing: folder.path).first { $0.contains(board.isProcess ? "hello.elf" : "qemu-system-arm") }?
                .split(separator: ":").first.map(String.init))
            let before = try XCTUnwrap(cpuSeconds(of: qemu)), started = Date()
            Thread.sleep(forTimeInterval: 2)
            let used = try XCTUnwrap(cpuSeconds(of: qemu)) - before, wall = Date().timeIntervalSince(started)
            print("\(board.name): qemu used \(String(format: "%.3f", used)) s of CPU in \(String(format: "%.2f", wall)) s asleep")
            XCTAssertLessThan(used / wall, 0.10, "\(board.name): a sleeping unikernel must not spin")
        }
    }
}

/// One place sleeps: the loop's idle step. Everything else that waits parks
/// a task. Read from the sources, so a new wait loop in a driver or a
/// library fails here.
final class OneLoopTests: XCTestCase {
    func testOnlyTheLoopSleepsInWfi() throws {
        let sources = Fixtures.installation.root.appendingPathComponent("Sources")
        var callers: [String] = []
        for folder in ["Boot", "Devices"] {
            let files = FileManager.default.enumerator(at: sources.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let file = files?.nextObject() as? URL {
                guard file.pathExtension == "swift" else { continue }
                let text = try String(contentsOf: file, encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    guard code.contains("waitForInterrupt(") || code.contains("boot_wait_for_interrupt()"),
                          !code.contains("func waitForInterrupt"), !code.contains("@_extern") else { continue }
                    callers.append(file.path.replacingOccurrences(of: sources.path + "/", with: "") + ": " + code.trimmingCharacters(in: .whitespaces))
                }
            }
        }
        let clocks = callers.filter { $0.hasPrefix("Devices/clock/Drivers/") }
        let rest = callers.filter { !$0.hasPrefix("Devices/clock/Drivers/") }.sorted()
        // The loop's idle step (with a clock, or with only an interrupt controller), and the controller's wfi under it.
        XCTAssertEqual(rest, ["Boot/Tasks/Scheduler.swift: clock.waitForInterrupt(orTicks: min(next ?? limit, limit))",
                              "Boot/Tasks/Scheduler.swift: interrupts.waitForInterrupt()",
                              "Devices/interrupt-controller/Runtime/InterruptController.swift: boot_wait_for_interrupt()"], "\(callers)")
        // Each clock driver arms its alarm and hands on to its controller: what the loop's idle step calls.
        XCTAssertEqual(clocks.count, 3, "\(clocks)")
        XCTAssertTrue(clocks.allSatisfy { $0.hasSuffix("interrupts.waitForInterrupt()") }, "\(clocks)")
    }
}
