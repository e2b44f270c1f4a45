@testable import Boot
import Foundation
import XCTest

/// The git store against packs `git` writes (through kv-git's host tool,
/// which runs git pack-objects, and git pack-objects run here without it):
/// every file of a commit byte for byte as `git show` gives it, listings as
/// `git ls-tree`, digests as `git hash-object`; delta chains of both kinds
/// (offset and name), long ones; and every byte of a pack damaged, which
/// may make a read fail but never return wrong bytes.
final class GitStoreTests: XCTestCase {
    static let hostTool = HostReference.packageRoot.appendingPathComponent("Sources/Devices/kv/Libraries/kv-git/host-tool.py").path

    @discardableResult
    func git(_ arguments: [String], in folder: URL, input: Data = Data()) throws -> Data {
        let result = try HostReference.run("/usr/bin/env", ["git", "-C", folder.path, "-c", "user.name=Test", "-c", "user.email=test@example.org",
                                                            "-c", "init.defaultBranch=main"] + arguments, input: input)
        XCTAssertEqual(result.status, 0, "git \(arguments)")
        return result.output
    }

    /// A repository with two commits on main: subfolders, a binary file of
    /// 300 KB, 40 near-copies of one text (which pack as a delta chain), an
    /// empty file, an executable, a link and a file with spaces in its name.
    func repository(withPhoto: Bool = true) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("git-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try git(["init", "-q"], in: folder)
        func write(_ path: String, _ bytes: [UInt8]) throws {
            let file = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        }
        var generator = SystemRandomNumberGenerator()
        try write("index.html", Array("<h1>first</h1>\n".utf8))
        try git(["add", "."], in: folder)
        try git(["commit", "-q", "-m", "first"], in: folder)
        // Each copy changes one more line than the one before: the closest to each is the next,
        // so git packs them as one long chain of deltas (as successive versions of a file).
        for copy in 0..<40 {
            var text = ""
            for line in 0..<400 { text += line < copy ? "line \(line) was changed in copy \(line)\n" : "line \(line) of a page\n" }
            try write("pages/page-\(copy).txt", Array(text.utf8))
        }
        try write("index.html", Array("<h1>second</h1>\n".utf8))
        try write("media/photo.bin", (0..<(withPhoto ? 300_000 : 3000)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try write("docs/deeper/empty", [])
        try write("docs/a file with spaces.txt", Array("spaces\n".utf8))
        try write("tools/run.sh", Array("#!/bin/sh\necho run\n".utf8))
        chmod(folder.appendingPathComponent("tools/run.sh").path, 0o755)
        symlink("index.html", folder.appendingPathComponent("link.html").path)
        try git(["add", "."], in: folder)
        try git(["commit", "-q", "-m", "second"], in: folder)
        return folder
    }

    /// kv-git's host tool's image of `ref` in `repository`.
    func image(_ repository: URL, ref: String = "main") throws -> [UInt8] {
        let output = repository.deletingLastPathComponent().appendingPathComponent(UUID().uuidString + ".img")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try HostReference.run("/usr/bin/env", ["python3", GitStoreTests.hostTool, "pack-git", repository.path, ref, output.path], withErrors: true)
        XCTAssertEqual(result.status, 0, String(decoding: result.output, as: UTF8.self))
        return Array(try Data(contentsOf: output))
    }

    func store(_ bytes: [UInt8], ref: String = "") -> GitStore<MemoryArchive> {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        copy.copyBytes(from: bytes)
        return GitStore(source: MemoryArchive(start: UnsafeRawPointer(copy.baseAddress), count: bytes.count), ref: ref)
    }

    /// Every path of the commit's tree (files and folders) and what git says of it.
    func tree(_ repository: URL, _ ref: String) throws -> [(mode: String, type: String, id: String, path: String)] {
        let listing = try git(["ls-tree", "-r", "-t", "-z", ref], in: repository)
        return listing.split(separator: 0).map { entry in
            let text = String(decoding: entry, as: UTF8.self)
            let parts = text.split(separator: "\t", maxSplits: 1)
            let info = parts[0].split(separator: " ")
            return (String(info[0]), String(info[1]), String(info[2]), String(parts[1]))
        }
    }

    func checkServesTheCommit<Source: ArchiveSource>(_ kv: GitStore<Source>, _ repository: URL, ref: String) throws {
        XCTAssertNil(kv.failure)
        XCTAssertEqual(kv.commit, String(decoding: try git(["rev-parse", ref], in: repository), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        for entry in try tree(repository, ref) {
            switch entry.mode {
            case "040000":
                XCTAssertEqual(try kv.exists(entry.path), .dictionary, entry.path)
                let names = try tree(repository, "\(ref):\(entry.path)").filter { $0.mode != "120000" && !$0.path.contains("/") }
                XCTAssertEqual(try kv.list(entry.path).map(\.name), names.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, entry.path)
            case "120000":
                XCTAssertNil(try kv.exists(entry.path), "a link is not served: \(entry.path)")
            default:
                let bytes = Array(try git(["cat-file", "blob", entry.id], in: repository))
                XCTAssertEqual(try kv.get(entry.path), bytes, entry.path)
                XCTAssertEqual(try kv.size(entry.path), bytes.count, entry.path)
                XCTAssertEqual(try kv.exists(entry.path), .value, entry.path)
                XCTAssertEqual(GitPack.hex(try kv.digest(entry.path)), entry.id, "the digest is git's name of the blob")
                XCTAssertEqual(try kv.get(entry.path, offset: 10, length: 7), Array(bytes.dropFirst(10).prefix(7)), entry.path)
            }
        }
        XCTAssertEqual(try kv.list("").map(\.name), ["docs", "index.html", "media", "pages", "tools"])
        XCTAssertEqual(try kv.list("/docs//"), [KeyValueEntry(name: "a file with spaces.txt", kind: .value), KeyValueEntry(name: "deeper", kind: .dictionary)])
        XCTAssertNil(try kv.exists("index.html/more"))
        XCTAssertNil(try kv.exists("missing"))
        XCTAssertThrowsError(try kv.get("docs")) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
        XCTAssertThrowsError(try kv.get("missing")) { XCTAssertEqual($0 as? KeyValueError, .notFound) }
        XCTAssertThrowsError(try kv.list("index.html")) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
    }

    func testServesEveryFileOfTheCommitAsGitDoes() throws {
        let repository = try repository()
        let image = try image(repository)
        try checkServesTheCommit(store(image), repository, ref: "main")
        XCTAssertNil(store(image, ref: "main").failure)
        XCTAssertNil(store(image, ref: "refs/heads/main").failure)
        XCTAssertEqual(store(image, ref: "dev").failure, .notFound, "a disk packed from another ref is refused")
        // An older commit, by its name relative to main.
        try checkOlderCommit(store(try self.image(repository, ref: "main~1")), repository)
        // The pack has deltas, and chains of them (git verify-pack's histogram).
        XCTAssertGreaterThanOrEqual(try longestChain(image), 6)
        XCTAssertGreaterThan(try entryTypes(image)[.offsetDelta] ?? 0, 30, "the host tool packs deltas by offset, as git gc does")
    }

    func checkOlderCommit<Source: ArchiveSource>(_ kv: GitStore<Source>, _ repository: URL) throws {
        XCTAssertNil(kv.failure)
        XCTAssertEqual(try kv.get("index.html"), Array("<h1>first</h1>\n".utf8))
        XCTAssertEqual(try kv.list("").map(\.name), ["index.html"])
    }

    /// `git verify-pack -v` on the image's pack: git checks it, and prints its chain lengths.
    func verifyPack(_ image: [UInt8]) throws -> Data {
        let header = try GitStoreImage(Array(image.prefix(512)))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(image[Int(header.packOffset)..<Int(header.packOffset + header.packLength)]).write(to: folder.appendingPathComponent("p.pack"))
        try Data(image[Int(header.indexOffset)..<Int(header.indexOffset + header.indexLength)]).write(to: folder.appendingPathComponent("p.idx"))
        let result = try HostReference.run("/usr/bin/env", ["git", "verify-pack", "-v", folder.appendingPathComponent("p.idx").path])
        XCTAssertEqual(result.status, 0, "git verify-pack refused the pack")
        return result.output
    }

    /// How many entries of each type the image's pack holds.
    func entryTypes(_ image: [UInt8]) throws -> [GitPack.ObjectType: Int] {
        let kv = store(image)
        var types: [GitPack.ObjectType: Int] = [:]
        for offset in kv.index.offsets {
            let bytes = Array(image[Int(kv.image.packOffset + offset)...].prefix(40))
            types[try GitPack.entryHeader(bytes, at: offset).type, default: 0] += 1
        }
        return types
    }

    /// The longest delta chain in the image's pack, as git verify-pack counts them.
    func longestChain(_ image: [UInt8]) throws -> Int {
        let report = String(decoding: try verifyPack(image), as: UTF8.self)
        return report.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("chain length = ") else { return nil }
            return Int(line.dropFirst("chain length = ".count).prefix { $0.isNumber })
        }.max() ?? 0
    }

    /// A pack whose deltas name their bases (REF_DELTA: what pack-objects
    /// writes without --delta-base-offset, and what git's network protocol
    /// sends by default), behind a header made here.
    func testServesDeltasThatNameTheirBases() throws {
        let repository = try repository()
        let commit = String(decoding: try git(["rev-parse", "main"], in: repository), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let objects = try git(["rev-list", "--objects", "--no-walk", commit], in: repository)
        let prefix = repository.appendingPathComponent(".git/test-pack").path
        let name = String(decoding: try git(["pack-objects", "-q", "--window=50", "--depth=100", prefix], in: repository, input: objects), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pack = Array(try Data(contentsOf: URL(fileURLWithPath: "\(prefix)-\(name).pack")))
        let index = Array(try Data(contentsOf: URL(fileURLWithPath: "\(prefix)-\(name).idx")))
        let indexOffset = (512 + pack.count + 511) / 512 * 512
        let header = "mirage-config git store 1\nref refs/heads/main\ncommit \(commit)\npack 512 \(pack.count)\nindex \(indexOffset) \(index.count)\n"
        var image = Array(header.utf8) + [UInt8](repeating: 0, count: 512 - header.utf8.count)
        image += pack + [UInt8](repeating: 0, count: indexOffset - 512 - pack.count) + index
        XCTAssertGreaterThanOrEqual(try longestChain(image), 6)
        XCTAssertGreaterThan(try entryTypes(image)[.referenceDelta] ?? 0, 30)
        XCTAssertNil(try entryTypes(image)[.offsetDelta])
        try checkServesTheCommit(store(image), repository, ref: "main")
    }

    /// The pack `git gc --aggressive` makes of a file's 100 versions (its
    /// whole history, chains of deltas as deep as its --depth allows, 50), served as it is,
    /// behind a header made here: every version, by its commit, as git shows it.
    func testServesLongDeltaChainsOfAGarbageCollectedHistory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("git-gc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try git(["init", "-q"], in: folder)
        var lines = (0..<300).map { "line \($0) of a page that a long history edits\n" }
        var commits: [String] = []
        for version in 0..<100 {
            lines[(version * 37) % lines.count] = "line changed in version \(version)\n"
            try Data(lines.joined().utf8).write(to: folder.appendingPathComponent("page.txt"))
            try git(["add", "page.txt"], in: folder)
            try git(["commit", "-q", "-m", "version \(version)"], in: folder)
            commits.append(String(decoding: try git(["rev-parse", "HEAD"], in: folder), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        try git(["gc", "-q", "--aggressive"], in: folder)
        let packs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(".git/objects/pack").path)
        let name = try XCTUnwrap(packs.first { $0.hasSuffix(".pack") }).dropLast(".pack".count)
        let pack = Array(try Data(contentsOf: folder.appendingPathComponent(".git/objects/pack/\(name).pack")))
        let index = Array(try Data(contentsOf: folder.appendingPathComponent(".git/objects/pack/\(name).idx")))
        for commit in [commits[0], commits[37], commits[71], commits[99]] {
            let indexOffset = (512 + pack.count + 511) / 512 * 512
            let header = "mirage-config git store 1\nref refs/heads/main\ncommit \(commit)\npack 512 \(pack.count)\nindex \(indexOffset) \(index.count)\n"
            let image = Array(header.utf8) + [UInt8](repeating: 0, count: 512 - header.utf8.count) + pack
                + [UInt8](repeating: 0, count: indexOffset - 512 - pack.count) + index
            if commit == commits[0] { XCTAssertGreaterThanOrEqual(try longestChain(image), 40, "gc --aggressive makes long chains") }
            let kv = store(image)
            XCTAssertNil(kv.failure)
            XCTAssertEqual(try kv.get("page.txt"), Array(try git(["show", "\(commit):page.txt"], in: folder)), commit)
        }
    }

    /// One byte flipped at a time all over the pack and the index: a read may
    /// fail (`.corrupt`), but what it returns is what git has, and nothing crashes.
    func testADamagedPackNeverGivesWrongBytes() throws {
        let repository = try repository(withPhoto: false)
        let image = try image(repository)
        var expected: [String: [UInt8]] = [:]
        for entry in try tree(repository, "main") where entry.type == "blob" && entry.mode != "120000" {
            expected[entry.path] = Array(try git(["cat-file", "blob", entry.id], in: repository))
        }
        var refused = 0, failedReads = 0, goodReads = 0
        var position = 512
        while position < image.count {
            var damaged = image
            damaged[position] ^= 0x5A
            let kv = store(damaged)
            if kv.failure != nil {
                refused += 1
            } else {
                for (key, bytes) in expected {
                    do throws(KeyValueError) {
                        let read = try kv.get(key)
                        XCTAssertEqual(read, bytes, "byte \(position) damaged: \(key) read wrong")
                        goodReads += 1
                    } catch {
                        XCTAssertEqual(error, .corrupt, "byte \(position)")
                        failedReads += 1
                    }
                }
            }
            position += position < 1024 ? 1 : 13
        }
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(failedReads, 0)
        XCTAssertGreaterThan(goodReads, 0)
    }

    func testRefusesWhatIsNotAGitStore() {
        XCTAssertEqual(store([]).failure, .corrupt)
        XCTAssertEqual(store([UInt8](repeating: 0, count: 4096)).failure, .corrupt)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bytes = Array("mirage-config git store 1\nref main\ncommit \(String(repeating: "ab", count: 20))\npack 512 2000\nindex 2560 1500\n".utf8)
            bytes += [UInt8](repeating: 0, count: 512 - bytes.count)
            bytes += Array("PACK".utf8) + [0, 0, 0, 2]
            bytes += (0..<4000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.replaceSubrange(2560..<2568, with: [0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2])
            XCTAssertNotNil(store(bytes).failure)
        }
    }

    func testDeltaInstructions() throws {
        let base = Array("0123456789".utf8)
        // Sizes 10 and 7; copy 4 bytes from offset 2; insert "ab"; copy 1 byte from offset 9.
        XCTAssertEqual(try GitPack.applyDelta([10, 7, 0x91, 2, 4, 2, 0x61, 0x62, 0x91, 9, 1], to: base), Array("2345ab9".utf8))
        XCTAssertThrowsError(try GitPack.applyDelta([10, 1, 0], to: base), "instruction 0 is reserved")
        XCTAssertThrowsError(try GitPack.applyDelta([9, 1, 1, 0x61], to: base), "the base's size must match")
        XCTAssertThrowsError(try GitPack.applyDelta([10, 4, 0x91, 8, 4], to: base), "a copy past the base's end")
        XCTAssertThrowsError(try GitPack.applyDelta([10, 3, 2, 0x61, 0x62], to: base), "fewer bytes than promised")
        XCTAssertThrowsError(try GitPack.applyDelta([10, 1, 2, 0x61, 0x62], to: base), "more bytes than promised")
        // A copy of size 0 means 0x10000.
        let big = [UInt8](repeating: 7, count: 0x10000)
        XCTAssertEqual(try GitPack.applyDelta([0x80, 0x80, 4, 0x80, 0x80, 4, 0x80], to: big), big)
    }
}
