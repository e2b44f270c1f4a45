import Foundation
@testable import MirageConfig
@testable import MirageEngine
import XCTest

/// Block devices on the host side: which driver a disk gets per board, which
/// image each boot attaches, and the images `run` creates and pads.
final class DiskTests: XCTestCase {
    func testDefaultDiskIsVirtioOrTheSDHost() throws {
        let graph = Fixtures.graph([defaultConsole, disk("data", image: "data.img")])
        XCTAssertEqual(try Fixtures.resolve(graph, on: "virt").device(named: "data")?.driver, "virtio-blk")
        XCTAssertEqual(try Fixtures.resolve(graph, on: "vexpress-a9").device(named: "data")?.driver, "virtio-blk")
        XCTAssertEqual(try Fixtures.resolve(graph, on: "cubieboard").device(named: "data")?.driver, "sunxi-mmc")
        let sd = Fixtures.graph([defaultConsole, disk("data", image: "data.img", driver: "pl181")])
        XCTAssertEqual(try Fixtures.resolve(sd, on: "vexpress-a9").device(named: "data")?.path, "/mmci@10005000")
        XCTAssertThrowsError(try Fixtures.resolve(sd, on: "virt")) { error in
            XCTAssert("\(error)".contains("cannot provide a pl181 block"), "\(error)")
        }
    }

    func testTwoDisksTakeTwoTransportsInQemuOrder() throws {
        let graph = Fixtures.graph([defaultConsole, disk("first", image: "a.img"), disk("second", image: "b.img")])
        let configuration = try Fixtures.resolve(graph, on: "virt")
        XCTAssertEqual(configuration.devices.filter { $0.type == "block" }.map(\.peripheral), ["virtio31", "virtio30"])
        let drivers = try DriverCatalog(installation: Fixtures.installation)
        let arguments = try QemuCommand.attachments(for: configuration, board: Fixtures.board("virt"), drivers: drivers,
                                                    disks: ["first": "/d/a,b.img", "second": "/d/b.img"])
        XCTAssertEqual(arguments, ["-drive", "file=/d/a,,b.img,if=none,id=first,format=raw", "-device", "virtio-blk-device,drive=first",
                                   "-drive", "file=/d/b.img,if=none,id=second,format=raw", "-device", "virtio-blk-device,drive=second"],
                       "the first -device fills the top transport; a comma in a path is doubled for qemu's option syntax")
    }

    func testRunDiskArgumentsAreChecked() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, disk("data")]), on: "virt")
        let drivers = try DriverCatalog(installation: Fixtures.installation)
        let folder = URL(fileURLWithPath: "/work")
        XCTAssertEqual(try Disks.overrides(["data=x.img"], configuration: configuration, drivers: drivers, relativeTo: folder),
                       ["data": URL(fileURLWithPath: "/work/x.img")])
        for (bad, message) in [("nodisk=x.img", "no block device 'nodisk'"), ("data", "is not NAME=FILE"), ("data=", "is not NAME=FILE")] {
            XCTAssertThrowsError(try Disks.overrides([bad], configuration: configuration, drivers: drivers, relativeTo: folder)) { error in
                XCTAssert("\(error)".contains(message), "\(bad): \(error)")
                XCTAssert("\(error)".contains("its block devices are: data"), "\(error)")
            }
        }
        XCTAssertThrowsError(try Disks.plan(configuration, drivers: drivers, folder: folder, overrides: [:])) { error in
            XCTAssert("\(error)".contains("'data' has no disk image") && "\(error)".contains("--disk data=FILE"), "\(error)")
        }
    }

    func testMissingImagesAreCreatedOnlyWhenDeclared() throws {
        let folder = try Fixtures.temporaryFolder()
        let created = DiskAttachment(device: "data", file: folder.appendingPathComponent("new.img"), declaredSize: 65536,
                                     create: true, sizeRule: .any)
        var said: [String] = []
        _ = try Disks.prepare([created], copies: folder.appendingPathComponent("copies"), say: { said.append($0) })
        XCTAssertEqual(try Disks.sizeOf(created.file), 65536)
        XCTAssertEqual(said.count, 1)
        let absent = DiskAttachment(device: "data", file: folder.appendingPathComponent("absent.img"), declaredSize: 65536,
                                    create: false, sizeRule: .any)
        XCTAssertThrowsError(try Disks.prepare([absent], copies: folder.appendingPathComponent("copies"), say: { _ in })) { error in
            XCTAssert("\(error)".contains("does not exist"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: absent.file.path))
    }

    func testSDImagesArePaddedToAPowerOfTwoKeepingTheirBytes() throws {
        let folder = try Fixtures.temporaryFolder()
        let file = folder.appendingPathComponent("card.img")
        let content = Data((0..<3000).map { UInt8($0 % 256) })
        try content.write(to: file)
        var said: [String] = []
        _ = try Disks.prepare([DiskAttachment(device: "card", file: file, declaredSize: nil, create: false, sizeRule: .powerOfTwo)],
                              copies: folder.appendingPathComponent("copies"), say: { said.append($0) })
        let padded = try Data(contentsOf: file)
        XCTAssertEqual(padded.count, 4096)
        XCTAssertEqual(padded.prefix(3000), content)
        XCTAssert(padded.dropFirst(3000).allSatisfy { $0 == 0 })
        XCTAssert(said.first?.contains("power of two") == true, "\(said)")
        XCTAssertEqual(Disks.requiredSize(1 << 20, rule: .powerOfTwo), 1 << 20)
        XCTAssertEqual(Disks.requiredSize(1000, rule: .any), 1024)
        XCTAssertEqual(Disks.requiredSize((1 << 20) + 512, rule: .powerOfTwo), 2 << 20)
    }

    /// A disk only a read-only store uses (a tar archive) is never changed:
    /// the padding QEMU's SD model needs goes to a copy, which is booted.
    func testADiskThatIsOnlyReadIsPaddedAsACopy() throws {
        let folder = try Fixtures.temporaryFolder()
        let file = folder.appendingPathComponent("data.tar")
        let content = Data((0..<3000).map { UInt8($0 % 256) })
        try content.write(to: file)
        var said: [String] = []
        let attached = try Disks.prepare([DiskAttachment(device: "data", file: file, declaredSize: nil, create: false,
                                                         sizeRule: .powerOfTwo, readOnlyUse: true)],
                                         copies: folder.appendingPathComponent("copies"), say: { said.append($0) })
        XCTAssertEqual(try Data(contentsOf: file), content, "the person's file is unchanged")
        XCTAssertNotEqual(attached[0].file, file)
        XCTAssertEqual(try Data(contentsOf: attached[0].file).count, 4096)
        XCTAssert(said.first?.contains("the file itself is unchanged") == true, "\(said)")
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, tarStore(on: disk("data", image: "data.tar"))]), on: "cubieboard")
        XCTAssertEqual(try Disks.plan(configuration, drivers: Fixtures.drivers, folder: folder, overrides: [:]).first?.readOnlyUse, true)
        let writable = try Fixtures.resolve(Fixtures.graph([defaultConsole, littlefsStore(on: disk("data", image: "data.lfs"))]), on: "cubieboard")
        XCTAssertEqual(try Disks.plan(writable, drivers: Fixtures.drivers, folder: folder, overrides: [:]).first?.readOnlyUse, false)
    }

    func testDiskDeclarationsAreCheckedInTheDSL() throws {
        let before = Diagnostics.errors.count
        _ = disk("data", size: .bytes(1000), file: "config.swift", line: 4)
        _ = disk("data", image: "d.img", create: true, file: "config.swift", line: 5)
        let errors = Diagnostics.errors.dropFirst(before)
        Diagnostics.errors.removeLast(errors.count)
        XCTAssertEqual(errors.count, 2, "\(errors)")
        XCTAssert(errors.first?.contains("config.swift:4: error: a disk's size") == true, "\(errors)")
        XCTAssert(errors.last?.contains("config.swift:5: error: the disk 'data' has create: true but no size") == true, "\(errors)")
    }
}
