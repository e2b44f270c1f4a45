import Foundation
@testable import MirageEngine
import XCTest

/// U-Boot images: what mkimage and U-Boot's shell read.
final class BootImageTests: XCTestCase {
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
        XCTAssertFalse(script.split(separator: "\n").contains { $0.hasPrefix("setenv bootargs") }, "no value goes through U-Boot's shell: \(script)")
        let dts = try Fixtures.run("dtc", ["-q", "-I", "dtb", "-O", "dts", workspace.distDirectory.appendingPathComponent("hello.dtb").path]).output
        XCTAssertTrue(dts.contains(#"bootargs = "--message=\"Hello, world\"";"#), dts)
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

    func testEGONChecksumIsChecked() throws {
        var spl = Data(count: 64)
        spl.replaceSubrange(4..<12, with: Array("eGON.BT0".utf8))
        spl[16] = 64                                         // length
        var sum: UInt32 = 0
        for offset in stride(from: 0, to: 64, by: 4) {
            sum &+= offset == 12 ? 0x5F0A_6C39 : spl[offset..<offset + 4].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * $1.offset) }
        }
        withUnsafeBytes(of: sum.littleEndian) { spl.replaceSubrange(12..<16, with: $0) }
        XCTAssertNil(SunxiBootImage.problem(with: spl))
        spl[40] ^= 1
        XCTAssertTrue(SunxiBootImage.problem(with: spl)?.contains("checksum") == true)
        XCTAssertTrue(SunxiBootImage.problem(with: Data(count: 64))?.contains("no eGON.BT0 header") == true)
    }

    /// QEMU cannot run the A10's boot ROM, so the Cubieboard's card is
    /// checked by its layout: the MBR (sfdisk), U-Boot's SPL at 8 KiB with a
    /// valid eGON checksum, the FAT partition's files (mtools), and the same
    /// bytes twice.
    func testCubieboardCardLayoutChecksumsAndFiles() throws {
        try requireSystemTests()
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello"))
        _ = try workspace.configure(target: "cubieboard")
        _ = try Builder(workspace: workspace).build()
        let card = try XCTUnwrap(try BootImage(workspace: workspace).write(.sdcard).first)
        let bytes = try Data(contentsOf: card)
        XCTAssertEqual(bytes.count & (bytes.count - 1), 0, "QEMU and cards want a power of two")
        XCTAssertEqual(try BootImage(workspace: workspace).write(.sdcard).first.map { try Data(contentsOf: $0) }, bytes,
                       "the same card twice")
        let table = try Fixtures.run("sfdisk", ["--dump", card.path])
        XCTAssertTrue(table.output.contains("label-id: 0x4d495247"), table.output)
        XCTAssertTrue(table.output.contains("start=        2048") && table.output.contains("type=c, bootable"), table.output)
        let uBoot = try Data(contentsOf: Fixtures.installation.root
            .appendingPathComponent(".build/firmware/u-boot-sunxi/usr/lib/u-boot/Cubieboard/u-boot-sunxi-with-spl.bin"))
        XCTAssertEqual(bytes[8192..<(8192 + uBoot.count)], uBoot[...], "U-Boot with its SPL at 8 KiB")
        XCTAssertNil(SunxiBootImage.problem(with: bytes[8192...]))
        let listing = try Shell.run(URL(fileURLWithPath: "/usr/bin/mdir"), ["-b", "-i", card.path + "@@1M", "::"],
                                    environment: ["MTOOLS_SKIP_CHECK": "1"])
        for file in ["::/boot.scr", "::/hello.uImage", "::/hello.dtb"] { XCTAssertTrue(listing.output.contains(file), listing.output) }
        let script = try Shell.run(URL(fileURLWithPath: "/usr/bin/mtype"), ["-i", card.path + "@@1M", "::boot.cmd"],
                                   environment: ["MTOOLS_SKIP_CHECK": "1"])
        XCTAssertTrue(script.output.contains("load ${devtype} ${devnum}:${distro_bootpart} ${kernel_addr_r} hello.uImage"), script.output)
    }
}
