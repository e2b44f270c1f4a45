import Foundation
@testable import MirageEngine
import XCTest

/// `mirage-config kv`'s host side: store images made and read with GNU tar
/// and littlefs-python, and the errors a person meets.
final class StoreImageTests: XCTestCase {
    func folder() throws -> URL {
        let folder = try Fixtures.temporaryFolder()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: folder.appendingPathComponent("hello.txt"))
        try Data((0..<3000).map { UInt8($0 % 256) }).write(to: folder.appendingPathComponent("docs/data.bin"))
        return folder
    }

    func testTarImagesAreListedAndReadAndRefuseWrites() throws {
        let source = try folder()
        let image = source.appendingPathExtension("tar")
        try Fixtures.drivers.driver("kv-tar").pack(source, into: image, installation: Fixtures.installation)
        let store = try StoreImage(image, installation: Fixtures.installation)
        XCTAssertEqual(store.driver.name, "kv-tar")
        XCTAssertEqual(try store.list(""), "docs/\nhello.txt\n")
        XCTAssertEqual(try store.list("docs"), "data.bin\n")
        XCTAssertEqual(try store.get("docs/data.bin"), try Data(contentsOf: source.appendingPathComponent("docs/data.bin")))
        XCTAssertThrowsError(try store.get("nothing")) { XCTAssert("\($0)".contains("has no key 'nothing'"), "\($0)") }
        XCTAssertThrowsError(try store.put("x", from: image)) { XCTAssert("\($0)".contains("read-only"), "\($0)") }
    }

    func testLittlefsImagesGoThroughLittlefsPython() throws {
        let python = Fixtures.installation.root.appendingPathComponent(".build/python/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            if ProcessInfo.processInfo.environment["MIRAGE_SYSTEM_TESTS"] == "1" { XCTFail("littlefs-python is missing: run scripts/setup") }
            throw XCTSkip("littlefs-python is not installed (scripts/setup installs it)")
        }
        let source = try folder()
        let image = source.appendingPathExtension("lfs")
        // `kv pack --store kv-littlefs`: the driver's host tool makes it, sized for the folder.
        let (status, output) = try ToolRun.run(["kv", "pack", source.path, "-o", image.path, "--store", "kv-littlefs"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("bytes, kv-littlefs"), output)
        let store = try StoreImage(image, installation: Fixtures.installation)
        XCTAssertEqual(store.driver.name, "kv-littlefs")
        XCTAssertEqual(try store.list(""), "docs/\nhello.txt\n")
        let value = source.appendingPathComponent("value")
        try Data("new\n".utf8).write(to: value)
        try store.put("notes/today", from: value)
        XCTAssertEqual(try store.get("notes/today"), Data("new\n".utf8))
        XCTAssertEqual(try store.get("docs/data.bin").count, 3000)
        XCTAssertThrowsError(try store.get("nothing")) { XCTAssert("\($0)".contains("no such key"), "\($0)") }
    }

    /// A store is packed by its driver's host tool: one without is refused, naming those with one.
    func testKvPackNamesTheStoresThatPack() throws {
        let (status, output) = try ToolRun.run(["kv", "pack", try folder().path, "-o", "/tmp/never-written.img", "--store", "kv-crunch"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("the driver kv-crunch makes no disk images") && output.contains("kv-git, kv-littlefs, kv-tar"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/never-written.img"))
    }

    /// `kv pack --git`: git packs a commit of a repository; the image is read back through git.
    func testGitImagesArePackedAndReadByGit() throws {
        let repository = try folder()
        func git(_ arguments: String...) throws {
            let result = try Shell.run(URL(fileURLWithPath: "/usr/bin/git"), ["-C", repository.path, "-c", "user.name=Test", "-c", "user.email=test@example.org"] + arguments, timeout: 60)
            XCTAssertEqual(result.status, 0, result.error)
        }
        try git("init", "-q", "-b", "main")
        try git("add", ".")
        try git("commit", "-q", "-m", "first")
        try Data("changed\n".utf8).write(to: repository.appendingPathComponent("hello.txt"))
        try git("commit", "-q", "-a", "-m", "second")
        let image = repository.appendingPathExtension("git")
        var (status, output) = try ToolRun.run(["kv", "pack", "--git", repository.path + "@main~1", "-o", image.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("bytes, kv-git"), output)
        let store = try StoreImage(image, installation: Fixtures.installation)
        XCTAssertEqual(store.driver.name, "kv-git")
        XCTAssertEqual(try store.list(""), "docs/\nhello.txt\n")
        XCTAssertEqual(try store.get("hello.txt"), Data("hello\n".utf8), "the commit named, not the working tree")
        XCTAssertEqual(try store.get("docs/data.bin"), try Data(contentsOf: repository.appendingPathComponent("docs/data.bin")))
        XCTAssertThrowsError(try store.get("nothing")) { XCTAssert("\($0)".contains("has no key 'nothing'"), "\($0)") }
        XCTAssertThrowsError(try store.put("x", from: image)) { XCTAssert("\($0)".contains("read-only"), "\($0)") }
        // HEAD when no ref is given; the header names the branch.
        (status, output) = try ToolRun.run(["kv", "pack", "--git", repository.path, "-o", image.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(try store.get("hello.txt"), Data("changed\n".utf8))
        let header = String(decoding: try Data(contentsOf: image).prefix(512).prefix { $0 != 0 }, as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("mirage-config git store 1\nref refs/heads/main\ncommit "), header)
        // Mistakes: a ref that names nothing, a folder that is no repository; the last image stays.
        let before = try Data(contentsOf: image)
        (status, output) = try ToolRun.run(["kv", "pack", "--git", repository.path + "@nothing", "-o", image.path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("nothing names no commit in"), output)
        let plain = try folder()
        (status, output) = try ToolRun.run(["kv", "pack", "--git", plain.path, "-o", image.path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("is not a git repository"), output)
        (status, output) = try ToolRun.run(["kv", "pack", repository.path, "--git", repository.path, "-o", image.path])
        XCTAssertTrue(output.contains("give a folder or --git, not both"), output)
        XCTAssertEqual(try Data(contentsOf: image), before)
        // A zone file the dns library's parser refuses, committed or in a folder: refused, naming it; the last image stays.
        try Data("@ 60 IN SOA ns h 1 2 3 4 5\nwww 60 IN MX mail\n".utf8).write(to: repository.appendingPathComponent("bad.test.zone"))
        (status, output) = try ToolRun.run(["kv", "pack", repository.path, "-o", image.path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("/bad.test.zone:2: "), output)
        _ = try GitTree.git(["-c", "user.name=Test", "-c", "user.email=test@example.org", "add", "bad.test.zone"], in: repository)
        _ = try GitTree.git(["-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "-m", "a zone"], in: repository)
        (status, output) = try ToolRun.run(["kv", "pack", "--git", repository.path + "@main", "-o", image.path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("@main/bad.test.zone:2: "), output)
        XCTAssertEqual(try Data(contentsOf: image), before)
    }

    func testOtherFilesAreNotStores() throws {
        let file = try Fixtures.temporaryFolder().appendingPathComponent("random.img")
        try Data(repeating: 7, count: 4096).write(to: file)
        XCTAssertThrowsError(try StoreImage(file, installation: Fixtures.installation)) { error in
            XCTAssert("\(error)".contains("is the disk image of no store (kv-git, kv-littlefs, kv-tar)"), "\(error)")
        }
    }
}
