import Foundation
@testable import MirageEngine
import XCTest

/// U-Boot images: what mkimage and U-Boot's shell read.
final class BootImageTests: XCTestCase {
    func testHushQuotingKeepsQuotesAndDollars() {
        XCTAssertEqual(BootImage.hushQuoted(#"--message="it's $x""#), #"'--message="it'\''s $x"'"#)
    }

    func testUImageListsAtTheLoadAddressAndIsReproducible() throws {
        try requireSystemTests()
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello"))
        _ = try workspace.configure(target: "virt")
        _ = try Builder(workspace: workspace).build()
        let first = try BootImage(workspace: workspace).write(.uimage)
        let bytes = try first.map { try Data(contentsOf: $0) }
        for file in first { try FileManager.default.removeItem(at: file) }
        let second = try BootImage(workspace: workspace).write(.uimage)
        XCTAssertEqual(try second.map { try Data(contentsOf: $0) }, bytes, "uImage, DTB and boot script are the same bytes twice")
        let listed = try Fixtures.run("mkimage", ["-l", workspace.distDirectory.appendingPathComponent("hello.uImage").path])
        for line in ["Image Name:   mirage hello virt", "Load Address: 40010000", "Entry Point:  40010000", "ARM Linux Kernel Image (uncompressed)",
                     "Created:      Thu Jan  1 00:00:00 1970"] {
            XCTAssertTrue(listed.output.contains(line), listed.output)
        }
        let script = try String(contentsOf: workspace.distDirectory.appendingPathComponent("boot.cmd"), encoding: .utf8)
        XCTAssertTrue(script.contains("setenv bootargs '--message=\"Hello, world\"'"), script)
        XCTAssertTrue(script.contains("bootm ${kernel_addr_r} - 0x40000000"), script)
        let scriptListing = try Fixtures.run("mkimage", ["-l", workspace.distDirectory.appendingPathComponent("boot.scr").path])
        XCTAssertTrue(scriptListing.output.contains("ARM Linux Script (uncompressed)"), scriptListing.output)
    }

    /// A device tree from elsewhere (a boot loader's) that lacks the timer
    /// and calls the UART something else: the runtime names both and stops.
    func testRuntimeNamesTheHardwareItsDeviceTreeLacks() throws {
        try requireSystemTests()
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello"))
        _ = try workspace.configure(target: "virt")
        _ = try Builder(workspace: workspace).build()
        let source = try Fixtures.run("dtc", ["-q", "-I", "dtb", "-O", "dts", workspace.deviceTreeBlob.path]).output
        let edited = source.replacingOccurrences(of: "arm,pl011", with: "vendor,uart")
            .replacingOccurrences(of: #"\n\ttimer \{[^}]*\};"#, with: "", options: .regularExpression)
        XCTAssertNotEqual(edited, source)
        let dts = workspace.buildDirectory.appendingPathComponent("other.dts")
        try edited.write(to: dts, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Fixtures.run("dtc", ["-q", "-I", "dts", "-O", "dtb", "-o", workspace.deviceTreeBlob.path, dts.path]).status, 0)
        let outcome = try Runner(workspace: workspace).run(timeout: 60) { _ in }
        XCTAssertEqual(outcome.status, 70, outcome.console)
        XCTAssertTrue(outcome.console.contains("FATAL: the device tree lacks hardware this image needs:"), outcome.console)
        XCTAssertTrue(outcome.console.contains("/timer is missing (clock 'clock', driver generic-timer)"), outcome.console)
        XCTAssertTrue(outcome.console.contains("/serial@9000000 is not arm,pl011 (console 'console', driver pl011)"), outcome.console)
        XCTAssertFalse(outcome.console.contains("Hello from"), "no driver ran")
    }
}
