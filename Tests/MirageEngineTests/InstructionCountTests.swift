@testable import MirageEngine
import XCTest

/// A figure CI can hold: the guest instructions fixed work takes, counted
/// under QEMU's -icount (not seconds, which vary threefold between machines
/// of one kind), against the figures committed in bench/instruction-counts.txt.
final class InstructionCountTests: XCTestCase {
    func testStorageTakesNoMoreInstructionsThanTheCommittedFigures() throws {
        try requireSystemTests()
        let root = Fixtures.installation.root
        let python = root.appendingPathComponent(".build/python/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return XCTFail("littlefs-python is missing: run scripts/setup") }
        let folder = try Fixtures.copy(example: "bench/storage")
        // The data the bench reads: 1 MiB in a littlefs image, made by littlefs itself.
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: data.appendingPathComponent("big.bin"))
        let made = try Shell.run(python, [root.appendingPathComponent("tools/littlefs-tool.py").path, "make",
                                          folder.appendingPathComponent("data.lfs").path, data.path, "--size", "8388608"])
        XCTAssertEqual(made.status, 0, made.error)
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "virt", "--store", "littlefs"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)

        let workspace = Workspace(installation: Fixtures.installation, directory: folder)
        let outcome = try Runner(workspace: workspace).run(Runner.BootRequest(qemuArguments: ["-icount", "shift=0"]), timeout: 300) { _ in }
        XCTAssertEqual(outcome.status, 0, outcome.console)
        var measured: [String: Int] = [:]
        for line in outcome.console.split(separator: "\n") where line.hasSuffix(" instructions") {
            guard let colon = line.firstIndex(of: ":"), let count = Int(line.split(separator: " ").dropLast().last ?? "") else { continue }
            measured[String(line[..<colon])] = count
        }
        let figures = try String(contentsOf: root.appendingPathComponent("bench/instruction-counts.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(":") }
        XCTAssertEqual(figures.count, 5)
        for figure in figures {
            let name = String(figure[..<figure.lastIndex(of: ":")!])
            let committed = try XCTUnwrap(Int(figure.split(separator: " ").last ?? ""), String(figure))
            let count = try XCTUnwrap(measured[name], "the bench printed no count for '\(name)':\n\(outcome.console)")
            XCTAssertLessThanOrEqual(count, committed + committed / 10,
                                     "\(name): \(count) instructions, more than 10% over the \(committed) in bench/instruction-counts.txt")
            if count < committed - committed / 10 {
                print("\(name): \(count) instructions, under the committed \(committed): lower it in bench/instruction-counts.txt")
            }
        }
    }
}
