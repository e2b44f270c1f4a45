import Foundation
@testable import MirageEngine
import XCTest

/// flash: it refuses what a slip would destroy, writes, reads back, compares.
final class FlashTests: XCTestCase {
    func card(removable: Bool? = true, size: UInt64? = 16 << 30, mounts: [String] = []) -> Flash.Target {
        Flash.Target(path: "/dev/sdx", isBlockDevice: true, isRemovable: removable, size: size, mountPoints: mounts)
    }

    func testRefusesMountedNonRemovableLargeAndSmallTargets() {
        let image: UInt64 = 32 << 20
        XCTAssertNil(Flash.refusal(for: card(), imageSize: image, overwriteNonRemovable: false, overwriteLarge: false))
        let mounted = Flash.refusal(for: card(mounts: ["/media/card"]), imageSize: image, overwriteNonRemovable: true, overwriteLarge: true)
        XCTAssertTrue(mounted?.description.contains("is mounted (/media/card)") == true, "no flag overrides a mount")
        let fixed = Flash.refusal(for: card(removable: false), imageSize: image, overwriteNonRemovable: false, overwriteLarge: false)
        XCTAssertTrue(fixed?.description.contains("not a removable device") == true)
        XCTAssertTrue(fixed?.fix?.contains("--overwrite-non-removable-disk") == true)
        XCTAssertNil(Flash.refusal(for: card(removable: false), imageSize: image, overwriteNonRemovable: true, overwriteLarge: false))
        let large = Flash.refusal(for: card(size: 2 << 40), imageSize: image, overwriteNonRemovable: false, overwriteLarge: false)
        XCTAssertTrue(large?.description.contains("more than any SD card") == true)
        XCTAssertTrue(large?.fix?.contains("--overwrite-large-disk") == true)
        let small = Flash.refusal(for: card(size: 1 << 20), imageSize: image, overwriteNonRemovable: true, overwriteLarge: true)
        XCTAssertTrue(small?.description.contains("less than the image's") == true)
        let file = Flash.Target(path: "/tmp/card.img", isBlockDevice: false, isRemovable: nil, size: nil, mountPoints: [])
        XCTAssertNil(Flash.refusal(for: file, imageSize: image, overwriteNonRemovable: false, overwriteLarge: false))
    }

    func testWritesAFileAndReadsItBack() throws {
        let folder = try Fixtures.temporaryFolder()
        let image = folder.appendingPathComponent("card.img"), target = folder.appendingPathComponent("written.img")
        var bytes = Data(count: 3 << 20)
        for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index >> 12) }
        try bytes.write(to: image)
        try Data("old contents".utf8).write(to: target)
        let (status, output) = try ToolRun.run(["flash", image.path, "--device", target.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("flash: 100%"), output)
        XCTAssertTrue(output.contains("read it back: the same; synced"), output)
        XCTAssertEqual(try Data(contentsOf: target), bytes)
    }

    /// A real block device: a loop device over a file, which says it is not
    /// removable, and which counts as mounted when one of its partitions is.
    func testLoopDeviceIsRefusedUnlessTheRiskIsNamed() throws {
        try requireSystemTests()
        let folder = try Fixtures.temporaryFolder()
        let backing = folder.appendingPathComponent("disk"), image = folder.appendingPathComponent("card.img")
        FileManager.default.createFile(atPath: backing.path, contents: nil)
        try FileHandle(forWritingTo: backing).truncate(atOffset: 8 << 20)
        try Data(repeating: 0xA5, count: 4 << 20).write(to: image)
        let attached = try Fixtures.run("losetup", ["-f", "--show", backing.path])
        let device = attached.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard attached.status == 0, device.hasPrefix("/dev/loop") else { throw XCTSkip("no loop devices here: \(attached.error)") }
        defer { _ = try? Fixtures.run("losetup", ["-d", device]) }

        let target = try Flash.Target.inspect(device, mounts: "")
        XCTAssertTrue(target.isBlockDevice)
        XCTAssertEqual(target.isRemovable, false)
        XCTAssertEqual(target.size, 8 << 20)
        let name = (device as NSString).lastPathComponent
        XCTAssertEqual(try Flash.Target.inspect(device, mounts: "/dev/\(name)p1 /mnt/boot vfat rw 0 0\n").mountPoints, ["/mnt/boot"])

        let (refused, text) = try ToolRun.run(["flash", image.path, "--device", device])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(text.contains("is not a removable device"), text)
        let (status, output) = try ToolRun.run(["flash", image.path, "--device", device, "--overwrite-non-removable-disk"])
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(try Data(contentsOf: backing).prefix(4 << 20), try Data(contentsOf: image))
    }
}
