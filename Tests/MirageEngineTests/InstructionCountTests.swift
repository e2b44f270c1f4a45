@testable import MirageEngine
import XCTest

/// A figure CI can hold: the guest instructions fixed work takes, counted
/// under QEMU's -icount (not seconds, which vary threefold between machines
/// of one kind), against the figures committed in bench/instruction-counts.txt,
/// one section per benchmark.
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
        for (image, blocks) in [("data.lfs", "512"), ("data-4k.lfs", "4096")] {
            let made = try Shell.run(python, [root.appendingPathComponent("tools/littlefs-tool.py").path, "make",
                                              folder.appendingPathComponent(image).path, data.path, "--size", "8388608", "--block-size", blocks])
            XCTAssertEqual(made.status, 0, made.error)
        }
        try check("bench/storage", in: folder, configure: ["--store", "littlefs"], icount: "shift=0")
        // 4 KiB blocks move scattered and gathered, a path of their own.
        try check("bench/storage", section: "bench/storage, 4 KiB blocks", in: folder,
                  configure: ["--store", "littlefs", "--littlefs-blocks", "4096"], icount: "shift=0")
    }

    /// Two of the stack's own interfaces joined in memory: no device and no
    /// host peer, so nothing outside the guest sets its timing, and with
    /// sleep=off an idle guest's clock jumps to its next timer at once.
    func testTheNetworkStackTakesNoMoreInstructionsThanTheCommittedFigures() throws {
        try requireSystemTests()
        try check("bench/tcp", in: try Fixtures.copy(example: "bench/tcp"), configure: [], icount: "shift=0,sleep=off")
    }

    /// The TLS crypto's secret-keyed operations, each with two secrets: the
    /// bench exits 1 if their counts differ by more than 64 (a branch on a
    /// secret's bits), and the counts must hold.
    func testTheTLSCryptoTakesTheSameInstructionsForEverySecret() throws {
        try requireSystemTests()
        try check("bench/tls", in: try Fixtures.copy(example: "bench/tls"), configure: [], icount: "shift=0")
    }

    /// Builds the bench in `folder` for virt, boots it under -icount and
    /// checks each figure of its section of bench/instruction-counts.txt
    /// (`section`, the bench's name unless given).
    func check(_ bench: String, section: String? = nil, in folder: URL, configure: [String], icount: String) throws {
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "virt"] + configure, in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)
        let workspace = Workspace(installation: Fixtures.installation, directory: folder)
        let outcome = try Runner(workspace: workspace).run(Runner.BootRequest(qemuArguments: ["-icount", icount]), timeout: 300) { _ in }
        XCTAssertEqual(outcome.status, 0, outcome.console)
        var measured: [String: Int] = [:]
        for line in outcome.console.split(separator: "\n") where line.hasSuffix(" instructions") {
            guard let colon = line.firstIndex(of: ":"), let count = Int(line.split(separator: " ").dropLast().last ?? "") else { continue }
            measured[String(line[..<colon])] = count
        }
        let section = section ?? bench
        let figures = try committedFigures()[section] ?? []
        XCTAssertFalse(figures.isEmpty, "bench/instruction-counts.txt has no [\(section)] section")
        for (name, committed) in figures {
            let count = try XCTUnwrap(measured[name], "the bench printed no count for '\(name)':\n\(outcome.console)")
            XCTAssertLessThanOrEqual(count, committed + committed / 10,
                                     "\(name): \(count) instructions, more than 10% over the \(committed) in bench/instruction-counts.txt")
            if count < committed - committed / 10 {
                print("\(name): \(count) instructions, under the committed \(committed): lower it in bench/instruction-counts.txt")
            }
        }
    }

    /// The file's figures by section (`[bench/NAME]`), each a `name: count` line.
    func committedFigures() throws -> [String: [(String, Int)]] {
        let text = try String(contentsOf: Fixtures.installation.root.appendingPathComponent("bench/instruction-counts.txt"), encoding: .utf8)
        var sections: [String: [(String, Int)]] = [:]
        var section = ""
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
            } else if let colon = line.lastIndex(of: ":") {
                let count = try XCTUnwrap(Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)), String(line))
                sections[section, default: []].append((String(line[..<colon]), count))
            }
        }
        return sections
    }
}
