import Foundation
@testable import MirageConfig
@testable import MirageEngine
import XCTest

/// Key-value stores on the host side: which driver each constructor gets,
/// the folders crunch embeds, and the assembly that embeds them.
final class KVConfigurationTests: XCTestCase {
    func testStoresResolveToTheirDrivers() throws {
        let crunchOnly = try Fixtures.resolve(Fixtures.graph([defaultConsole, crunch("htdocs")]), on: "virt")
        XCTAssertEqual(crunchOnly.device(named: "kv")?.driver, "kv-crunch")
        XCTAssertEqual(crunchOnly.device(named: "kv")?.parameters, ["directory": "htdocs"])
        let onDisk = try Fixtures.resolve(Fixtures.graph([defaultConsole, tarStore(on: disk("data", image: "d.tar"))]), on: "cubieboard")
        XCTAssertEqual(onDisk.devices.map(\.driver), ["ns16550", "sun4i-ic", "sunxi-timer", "sunxi-mmc", "kv-tar"])
        XCTAssertEqual(onDisk.device(named: "kv")?.arguments, ["data"])
    }

    func testACrunchFolderMustExist() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, crunch("no-such-folder", file: "config.swift", line: 9)]), on: "virt")
        XCTAssertThrowsError(try EmbeddedData.folders(configuration, drivers: Fixtures.drivers, installation: Fixtures.installation, base: URL(fileURLWithPath: "/tmp"))) { error in
            XCTAssert("\(error)".contains("config.swift:9: the kv 'kv' embeds the folder 'no-such-folder', which does not exist"), "\(error)")
        }
    }

    /// The dns library's file check (mirage-check-dns, its own parser built
    /// for the host): a zone file the server would refuse at boot is refused
    /// when configure or build embeds its folder, when build embeds a git
    /// tree holding it and when kv pack packs it, naming the file and the line.
    func testZoneFilesAreCheckedByTheDNSLibraryBeforeTheyReachAnImage() throws {
        let root = try Fixtures.temporaryFolder(), zones = root.appendingPathComponent("zones")
        try FileManager.default.createDirectory(at: zones, withIntermediateDirectories: true)
        let good = Fixtures.installation.root.appendingPathComponent("examples/dns/zones/example.test.zone")
        try FileManager.default.copyItem(at: good, to: zones.appendingPathComponent("example.test.zone"))
        try Data("$TTL 1h\n@ IN SOA ns1 hostmaster 1 2h 30m 2w 5m\n  IN NS ns1\nns1 IN AAAA 192.0.2.1\n".utf8)
            .write(to: zones.appendingPathComponent("broken.test.zone"))
        try Data("not a zone, and not read: its name does not end in .zone\n".utf8).write(to: zones.appendingPathComponent("notes.txt"))

        func embedding(_ devices: [MirageConfig.Device]) -> String {
            do {
                let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole] + devices), on: "virt")
                _ = try EmbeddedData.folders(configuration, drivers: Fixtures.drivers, installation: Fixtures.installation, base: root)
                return "no error"
            } catch { return "\(error)" }
        }
        let refused = embedding([genericStack(), crunch("zones", file: "config.swift", line: 12)])
        XCTAssertTrue(refused.contains("config.swift:12: the kv 'kv' embeds zones, where the dns library refuses a DNS zone file in "), refused)
        XCTAssertTrue(refused.contains("zones/broken.test.zone:4: 192.0.2.1 is not an IPv6 address"), refused)
        XCTAssertFalse(refused.contains("example.test.zone") || refused.contains("notes.txt"), refused)
        // Without a network stack the configuration has no dns library, and nothing reads the files as zones.
        XCTAssertEqual(embedding([crunch("zones")]), "no error")

        // kv pack's way, for a folder and for a commit of a repository (the working tree's edits not read).
        let catalog = Fixtures.drivers.drivers
        XCTAssertThrowsError(try FileChecks.run(in: zones, shownAs: "zones", drivers: catalog, installation: Fixtures.installation)) { error in
            XCTAssertTrue("\(error)".contains("zones/broken.test.zone:4: 192.0.2.1 is not an IPv6 address"), "\(error)")
        }
        func git(_ arguments: String...) throws {
            _ = try GitTree.git(["-c", "user.name=Test", "-c", "user.email=test@example.org"] + arguments, in: zones)
        }
        try git("init", "-q", "-b", "main")
        try git("add", ".")
        try git("commit", "-q", "-m", "zones")
        XCTAssertThrowsError(try FileChecks.run(commit: "main", of: zones, drivers: catalog, installation: Fixtures.installation)) { error in
            XCTAssertTrue("\(error)".contains("@main/broken.test.zone:4: 192.0.2.1 is not an IPv6 address"), "\(error)")
        }
        try git("rm", "-q", "broken.test.zone")
        try git("commit", "-q", "-m", "mended")
        XCTAssertNoThrow(try FileChecks.run(commit: "main", of: zones, drivers: catalog, installation: Fixtures.installation))

        // A git tree is checked once build has exported it.
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, genericStack(), crunch(git: "zones", ref: "main~1", file: "config.swift", line: 14)]),
                                                 on: "virt")
        let folders = try EmbeddedData.folders(configuration, drivers: Fixtures.drivers, installation: Fixtures.installation, base: root, fetching: true)
        let build = try Fixtures.temporaryFolder()
        XCTAssertThrowsError(try EmbeddedData.prepare(folders, in: build.appendingPathComponent("embedded"), assembly: build.appendingPathComponent("embedded.S"),
                                                      seenFrom: build, within: root, installation: Fixtures.installation)) { error in
            XCTAssertTrue("\(error)".contains("config.swift:14: 'kv' embeds the git tree of zones@main~1, where the dns library refuses a DNS zone file in zones@main~1:"), "\(error)")
            XCTAssertTrue("\(error)".contains("zones@main~1/broken.test.zone:4: 192.0.2.1 is not an IPv6 address"), "\(error)")
        }
    }

    func testTheEmbeddingAssemblyListsEachArchiveWithItsPathEscaped() {
        let text = EmbeddedData.source(["files"], archives: ["/odd \"dir\"\\x/files.tar"])
        XCTAssert(text.contains(".global mirage_embedded_table"))
        XCTAssert(text.contains(".dc.a embedded_name_0, embedded_start_0, embedded_end_0\n    .dc.a 0, 0, 0"), text)
        XCTAssert(text.contains(".asciz \"files\""))
        XCTAssert(text.contains(".incbin \"/odd \\\"dir\\\"\\\\x/files.tar\""), text)
    }

    func testGNUTarPacksReproducibly() throws {
        let folder = try Fixtures.temporaryFolder()
        try Data("b".utf8).write(to: folder.appendingPathComponent("b.txt"))
        try Data("a".utf8).write(to: folder.appendingPathComponent("a.txt"))
        let first = folder.appendingPathExtension("1.tar"), second = folder.appendingPathExtension("2.tar")
        try Fixtures.drivers.driver("kv-tar").pack(folder, into: first, installation: Fixtures.installation)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)],
                                              ofItemAtPath: folder.appendingPathComponent("a.txt").path)
        try Fixtures.drivers.driver("kv-tar").pack(folder, into: second, installation: Fixtures.installation)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "no date or owner in the archive")
        let names = try Fixtures.run("tar", ["-tf", first.path]).output.split(separator: "\n")
        XCTAssertEqual(names, ["./", "./a.txt", "./b.txt"])
    }

    func testTarStoreNeedsABlockDevice() {
        let before = Diagnostics.errors.count
        _ = tarStore(on: defaultConsole, file: "config.swift", line: 3)
        let errors = Array(Diagnostics.errors.dropFirst(before))
        Diagnostics.errors.removeLast(errors.count)
        XCTAssertEqual(errors.count, 1)
        XCTAssert(errors.first?.contains("config.swift:3: error: tarStore(on:) needs a block device, not a console") == true, "\(errors)")
    }

    /// gitStore(on:ref:) and crunch(git:ref:) check a ref's name on the host, with git's rules.
    func testGitRefNamesAreCheckedInConfigSwift() {
        let before = Diagnostics.errors.count
        _ = gitStore(on: disk("data", image: "site.git"), ref: "main..dev", file: "config.swift", line: 4)
        _ = crunch(git: "site", ref: "a b", file: "config.swift", line: 5)
        _ = crunch(git: "", file: "config.swift", line: 6)
        _ = gitStore(on: disk("data", image: "site.git"), ref: "refs/tags/v1.0", file: "config.swift", line: 7)
        _ = crunch(git: "site", ref: "main~1", file: "config.swift", line: 8)
        _ = gitStore(on: disk("data", image: "site.git"), ref: "main~1", file: "config.swift", line: 9)
        let errors = Array(Diagnostics.errors.dropFirst(before))
        Diagnostics.errors.removeLast(errors.count)
        XCTAssertEqual(errors.count, 4, "\(errors)")
        XCTAssert(errors.last?.contains("config.swift:9: error: \"main~1\" is not a git ref name") == true,
                  "a disk names the ref it was packed from, not a commit before it: \(errors)")
        XCTAssert(errors.first?.contains("config.swift:4: error: \"main..dev\" is not a git ref name") == true, "\(errors)")
        XCTAssert(errors.dropFirst().first?.contains("config.swift:5: error: \"a b\" is not a git ref name") == true, "\(errors)")
        XCTAssert(errors[2].contains("config.swift:6: error: \"\" is not a git repository's folder or URL"), "\(errors)")
    }

    /// A repository with two commits: hello.txt says "first", then "second";
    /// the working tree has an edit that is not committed.
    func gitRepository() throws -> URL {
        let folder = try Fixtures.temporaryFolder().appendingPathComponent("site")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("docs"), withIntermediateDirectories: true)
        func git(_ arguments: String...) throws {
            _ = try GitTree.git(["-c", "user.name=Test", "-c", "user.email=test@example.org"] + arguments, in: folder)
        }
        try git("init", "-q", "-b", "main")
        try Data("first\n".utf8).write(to: folder.appendingPathComponent("hello.txt"))
        try Data("docs\n".utf8).write(to: folder.appendingPathComponent("docs/readme.md"))
        try git("add", ".")
        try git("commit", "-q", "-m", "first")
        try Data("second\n".utf8).write(to: folder.appendingPathComponent("hello.txt"))
        try git("commit", "-q", "-a", "-m", "second")
        try Data("not committed\n".utf8).write(to: folder.appendingPathComponent("hello.txt"))
        return folder
    }

    /// What build embeds for crunch(git:ref:): the commit's files, packed by kv-tar's host tool.
    func embedded(_ device: MirageConfig.Device, base: URL, cache: URL) throws -> StoreImage {
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, device]), on: "virt")
        let folders = try EmbeddedData.folders(configuration, drivers: Fixtures.drivers, installation: Fixtures.installation, base: base, cache: cache, fetching: true)
        let build = try Fixtures.temporaryFolder()
        let archives = try EmbeddedData.prepare(folders, in: build.appendingPathComponent("embedded"), assembly: build.appendingPathComponent("embedded.S"),
                                                seenFrom: build, within: base, installation: Fixtures.installation, cache: cache)
        return try StoreImage(try XCTUnwrap(archives.first), installation: Fixtures.installation)
    }

    func testCrunchFromGitEmbedsACommitNotTheWorkingTree() throws {
        let errorsBefore = Diagnostics.errors.count
        defer { XCTAssertEqual(Diagnostics.errors.count, errorsBefore, "config.swift's checks passed: \(Diagnostics.errors)") }
        let repository = try gitRepository()
        let base = repository.deletingLastPathComponent(), cache = try Fixtures.temporaryFolder()
        let head = try embedded(crunch(git: "site"), base: base, cache: cache)
        XCTAssertEqual(try head.get("hello.txt"), Data("second\n".utf8))
        XCTAssertEqual(try head.list(""), "docs/\nhello.txt\n")
        XCTAssertEqual(try embedded(crunch(git: "site", ref: "main~1"), base: base, cache: cache).get("hello.txt"), Data("first\n".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("git").path), "a local repository is read where it is")

        // Mistakes name the line.
        func error(_ device: MirageConfig.Device) -> String {
            do {
                let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, device]), on: "virt")
                _ = try EmbeddedData.folders(configuration, drivers: Fixtures.drivers, installation: Fixtures.installation, base: base, cache: cache, fetching: true)
                return "no error"
            } catch { return "\(error)" }
        }
        let missing = error(crunch(git: "nothing", file: "config.swift", line: 8))
        XCTAssertTrue(missing.contains("config.swift:8: the kv 'kv': the git repository 'nothing' does not exist"), missing)
        let badRef = error(crunch(git: "site", ref: "release", file: "config.swift", line: 9))
        XCTAssertTrue(badRef.contains("config.swift:9: the kv 'kv': 'release' names no commit in the git repository 'site'"), badRef)
        let notARepository = error(crunch(git: "/", file: "config.swift", line: 10))
        XCTAssertTrue(notARepository.contains("is not a git repository"), notARepository)
    }

    /// A URL is cloned into the tool's cache by configure and fetched again by the next configure.
    func testCrunchFromAGitURLClonesIntoTheCache() throws {
        let repository = try gitRepository()
        let url = "file://" + repository.path
        let base = try Fixtures.temporaryFolder(), cache = try Fixtures.temporaryFolder()
        XCTAssertEqual(try embedded(crunch(git: url, ref: "main"), base: base, cache: cache).get("hello.txt"), Data("second\n".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("git").path).count, 1)
        try Data("third\n".utf8).write(to: repository.appendingPathComponent("hello.txt"))
        _ = try GitTree.git(["-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "-a", "-m", "third"], in: repository)
        XCTAssertEqual(try embedded(crunch(git: url, ref: "main"), base: base, cache: cache).get("hello.txt"), Data("third\n".utf8))
    }
}
