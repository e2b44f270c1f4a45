import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// How entropy devices resolve per board, and that nothing configure or
/// build writes carries seed material.
final class EntropyConfigurationTests: XCTestCase {
    func resolve(_ devices: [Device], on target: String) throws -> ResolvedConfiguration {
        try Fixtures.resolve(Fixtures.graph(devices), on: target)
    }

    func testDefaultEntropyTakesWhatEachBoardHas() throws {
        let virt = try resolve([defaultConsole, defaultEntropy], on: "virt")
        let entropy = try XCTUnwrap(virt.device(named: "entropy"))
        XCTAssertEqual(entropy.driver, "entropy-pool")
        XCTAssertNil(entropy.peripheral)
        XCTAssertEqual(entropy.arguments, ["clock", "virtioRNG", "rngSeed", "jitter"])
        XCTAssertEqual(virt.device(named: "virtioRNG")?.path, "/virtio_mmio@a003e00", "the top transport, which qemu fills first")
        XCTAssertEqual(virt.devices.map(\.name), ["console", "interrupts", "clock", "virtioRNG", "rngSeed", "jitter", "entropy"],
                       "sources and the clock come up before the pool that uses them")
        XCTAssertEqual(try resolve([defaultEntropy], on: "vexpress-a9").device(named: "virtioRNG")?.path, "/virtio_mmio@10013600")
        // Optional: left out where the board has no virtio-mmio transport.
        let cubieboard = try resolve([defaultEntropy], on: "cubieboard")
        XCTAssertNil(cubieboard.device(named: "virtioRNG"))
        XCTAssertEqual(cubieboard.device(named: "entropy")?.arguments, ["clock", "rngSeed", "jitter"])
        XCTAssertEqual(virt.keys.map(\.name), ["entropy-policy", "entropy-jitter"])
    }

    func testVirtioRNGOnABoardWithoutOneIsAnError() {
        let device = entropy(sources: [.virtioRNG, .jitter], file: "config.swift", line: 6)
        let text = errorText { _ = try self.resolve([defaultConsole, device], on: "cubieboard") }
        XCTAssertTrue(text.contains("config.swift:6: error: the cubieboard board cannot provide a virtio-rng entropy-source ('virtioRNG')"), text)
        XCTAssertTrue(text.contains("the cubieboard board has no entropy-source hardware"), text)
    }

    func testGlueGathersFromEachSourceBeforeTheJob() throws {
        let configuration = try resolve([defaultConsole, defaultEntropy], on: "virt")
        let glue = try GlueEmitter(configuration: configuration, drivers: Fixtures.drivers).source()
        let lines = [
            "let virtioRNG = VirtioRNG(tree: tree, path: \"/virtio_mmio@a003e00\")",
            "let rngSeed = DeviceTreeSeed(tree: tree)",
            "let jitter = JitterSource(clock: clock, enabled: Keys.entropyJitter)",
            "let entropy = Entropy(clock: clock, policy: Keys.entropyPolicy)",
            "entropy.gather(from: virtioRNG)",
            "entropy.gather(from: rngSeed)",
            "entropy.gather(from: jitter)",
            "entropy.finishSeeding()",
            "let status = Hello.start(console: console, entropy: entropy)",
        ]
        var previous = glue.startIndex
        for line in lines {
            let found = try XCTUnwrap(glue.range(of: line, range: previous..<glue.endIndex), "missing or out of order: \(line)")
            previous = found.upperBound
        }
    }

    func testQemuAttachesTheRNGOnlyWhenUsed() throws {
        let board = try Fixtures.board("virt")
        let with = try QemuCommand.attachments(for: try resolve([defaultConsole, defaultEntropy], on: "virt"), board: board,
                                               drivers: Fixtures.drivers)
        XCTAssertEqual(with, ["-device", "virtio-rng-device"])
        let without = try QemuCommand.attachments(for: try resolve([defaultConsole, defaultClock], on: "virt"), board: board,
                                                  drivers: Fixtures.drivers)
        XCTAssertEqual(without, [])
    }

    func testDeviceTreeHasTheRNGNodeAndNoSeed() throws {
        let board = try Fixtures.board("virt")
        let configuration = try resolve([defaultConsole, defaultEntropy], on: "virt")
        let tree = DeviceTreeEmitter(board: board, configuration: configuration).tree()
        let text = tree.dts(header: "")
        XCTAssertTrue(text.contains("virtio_mmio@a003e00"))
        XCTAssertFalse(text.contains("rng-seed"), "a seed in the configured device tree would be in every boot")
    }

    /// Two builds from clean give the same image: nothing random is baked in.
    func testBuildsAreReproducibleSoNoSeedIsBakedIn() throws {
        try requireSystemTests()
        let example = Fixtures.installation.root.appendingPathComponent("examples/entropy")
        var images: [Data] = []
        var dtbs: [Data] = []
        let folder = try Fixtures.temporaryFolder()
        for file in ["config.swift", "unikernel.swift"] {
            try FileManager.default.copyItem(at: example.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        let workspace = Workspace(installation: Fixtures.installation, directory: folder)
        for _ in 0..<2 {
            _ = try workspace.clean()
            _ = try workspace.configure(target: "virt")
            let result = try Builder(workspace: workspace).build()
            images.append(try Data(contentsOf: XCTUnwrap(result.rawImage)))
            dtbs.append(try Data(contentsOf: workspace.deviceTreeBlob))
        }
        XCTAssertEqual(images[0], images[1])
        XCTAssertEqual(dtbs[0], dtbs[1])
        XCTAssertNil(dtbs[0].range(of: Data("rng-seed".utf8)))
    }

    func testRunGivesAFreshSeedPerBoot() throws {
        XCTAssertNotEqual(try Runner.freshSeed(), try Runner.freshSeed())
        XCTAssertEqual(try Runner.freshSeed().count, 32)
    }
}
