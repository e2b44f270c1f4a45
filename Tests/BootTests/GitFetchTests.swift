@testable import Boot
import Foundation
import XCTest

/// Fetching with git's protocol version 2 against git's own upload-pack
/// (over its standard input and output, as ssh carries it; git daemon
/// carries the same after the git:// request line), and the fetched pack
/// indexed as `git index-pack` indexes it, then served by the git store.
extension GitStoreTests {
    /// One fetch of `ref` from `repository`, GitFetch speaking with `git upload-pack`.
    func fetch(_ repository: URL, ref: String, have: [UInt8]? = nil) throws -> GitFetch.Step {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "upload-pack", "--timeout=30", repository.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["GIT_PROTOCOL": "version=2"]) { $1 }
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        var session = GitFetch(ref: ref, have: have, maximumPack: 64 << 20)
        input.fileHandleForWriting.write(Data(session.lsRefsCommand))
        while true {
            let bytes = output.fileHandleForReading.availableData
            guard !bytes.isEmpty else { throw GitWireError("upload-pack ended before the fetch did") }
            let step = try session.take(Array(bytes))
            switch step {
            case .needMore: continue
            case .send(let request): input.fileHandleForWriting.write(Data(request))
            case .upToDate, .fetched: return step
            }
        }
    }

    func testFetchesARefWithProtocolVersion2AndServesItAsAPackedDisk() throws {
        let repository = try repository()
        // Aggressive packing: long delta chains in the pack upload-pack sends.
        try git(["gc", "-q", "--aggressive"], in: repository)
        guard case .fetched(let commit, let pack) = try fetch(repository, ref: "main") else { return XCTFail("main was not fetched") }
        let head = String(decoding: try git(["rev-parse", "main"], in: repository), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(GitPack.hex(commit), head)

        // The index is git index-pack's, but for the CRC-32 column (zeros) and so its own checksum.
        let ours = try GitPackIndexer.index(pack)
        let folder = repository.deletingLastPathComponent().appendingPathComponent("fetched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try Data(pack).write(to: folder.appendingPathComponent("fetched.pack"))
        try git(["index-pack", "-o", folder.appendingPathComponent("fetched.idx").path, folder.appendingPathComponent("fetched.pack").path], in: folder)
        let theirs = Array(try Data(contentsOf: folder.appendingPathComponent("fetched.idx")))
        XCTAssertEqual(ours.count, theirs.count)
        let count = Int(theirs[8 + 1020]) << 24 | Int(theirs[8 + 1021]) << 16 | Int(theirs[8 + 1022]) << 8 | Int(theirs[8 + 1023])
        XCTAssertGreaterThan(count, 40)
        let names = 8 + 1024 + 20 * count, crcs = names + 4 * count
        XCTAssertEqual(ours.prefix(names), theirs.prefix(names), "fan-out and names")
        XCTAssertEqual(ours[crcs..<(ours.count - 20)], theirs[crcs..<(theirs.count - 20)], "offsets and the pack's checksum")

        // Served as a disk packed from the repository is.
        let image = try GitPackIndexer.storeImage(ref: "refs/heads/main", commit: commit, pack: pack)
        try checkServesTheCommit(GitStore(source: image, ref: "main"), repository, ref: "main")

        // Nothing to fetch for the commit already served.
        XCTAssertEqual(try fetch(repository, ref: "main", have: commit), .upToDate(commit: commit))
        // An annotated tag names the commit it tags (ls-refs' peeled:).
        try git(["tag", "-a", "-m", "the first", "first", "main~1"], in: repository)
        guard case .fetched(let tagged, let older) = try fetch(repository, ref: "first") else { return XCTFail("the tag was not fetched") }
        XCTAssertEqual(GitPack.hex(tagged), String(decoding: try git(["rev-parse", "main~1"], in: repository), as: UTF8.self)
                        .trimmingCharacters(in: .whitespacesAndNewlines))
        try checkOlderCommit(GitStore(source: try GitPackIndexer.storeImage(ref: "refs/tags/first", commit: tagged, pack: older)),
                             repository)
        XCTAssertThrowsError(try fetch(repository, ref: "nothing")) { error in
            XCTAssertEqual((error as? GitWireError)?.reason, "the repository has no ref nothing")
        }

        // A pack with one byte changed anywhere is refused, never indexed into wrong names.
        for position in stride(from: 0, to: pack.count, by: max(1, pack.count / 64)) {
            var bent = pack
            bent[position] ^= 0x20
            XCTAssertThrowsError(try GitPackIndexer.index(bent), "byte \(position)")
        }
        // Nor a pack cut short, nor one claiming 2^31 entries or more (its checksum made right).
        XCTAssertThrowsError(try GitPackIndexer.index(Array(pack.dropLast(21))))
        var huge = Array(pack.dropLast(20))
        huge[8] = 0x80
        var checksum = SHA1()
        checksum.update(huge)
        XCTAssertThrowsError(try GitPackIndexer.index(huge + checksum.finish()))
    }

    /// A file of 2 MB that does not compress (zlib's stored blocks), as the website's PDF.
    func testFetchesAPackWithALargeIncompressibleFile() throws {
        let repository = try repository(withPhoto: false)
        try Data((0..<2_200_000).map { _ in UInt8.random(in: 0...255) }).write(to: repository.appendingPathComponent("media/paper.pdf"))
        try git(["add", "."], in: repository)
        try git(["commit", "-q", "-m", "paper"], in: repository)
        guard case .fetched(let commit, let pack) = try fetch(repository, ref: "main") else { return XCTFail("main was not fetched") }
        let kv = GitStore(source: try GitPackIndexer.storeImage(ref: "main", commit: commit, pack: pack), ref: "main")
        XCTAssertNil(kv.failure)
        XCTAssertEqual(try kv.get("media/paper.pdf"), Array(try Data(contentsOf: repository.appendingPathComponent("media/paper.pdf"))))
    }

    func testPacketLinesInAnyPiecesAndTheirMistakes() throws {
        let stream = GitWire.packet(Array("version 2\n".utf8)) + Array("0000".utf8) + Array("0001".utf8)
            + GitWire.packet([UInt8](repeating: 7, count: 1000)) + Array("0002".utf8)
        for size in [1, 3, 4, 5, 17, stream.count] {
            var reader = GitPacketReader()
            var packets: [GitPacket] = []
            var position = 0
            while position < stream.count {
                reader.take(Array(stream[position..<min(stream.count, position + size)]))
                position += size
                while let packet = try reader.next() { packets.append(packet) }
            }
            XCTAssertEqual(packets, [.data(Array("version 2\n".utf8)), .flush, .delimiter, .data([UInt8](repeating: 7, count: 1000)), .responseEnd],
                           "pieces of \(size)")
        }
        XCTAssertEqual(Array(GitWire.packet(Array("a\n".utf8))), Array("0006a\n".utf8))
        // The image in memory reads across its parts as one disk.
        let image = GitPackImage(parts: [[1, 2], [3], [], [4, 5, 6]])
        XCTAssertEqual(image.byteCount, 6)
        XCTAssertEqual(try image.read(at: 1, count: 4), [2, 3, 4, 5])
        XCTAssertEqual(try image.read(at: 0, count: 6), [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try image.read(at: 4, count: 3))
        for bad in ["0003", "00x1abc", "fff1" + String(repeating: "a", count: 70000)] {
            var reader = GitPacketReader()
            reader.take(Array(bad.utf8))
            XCTAssertThrowsError(try reader.next(), bad.prefix(8).description)
        }
        // A server that speaks only version 0 or 1 is said to be too old.
        var session = GitFetch(ref: "main", maximumPack: 1 << 20)
        XCTAssertThrowsError(try session.take(GitWire.packet(Array("0123456789012345678901234567890123456789 HEAD\0multi_ack\n".utf8)))) { error in
            XCTAssertTrue((error as? GitWireError)?.reason.contains("does not speak git's protocol version 2") ?? false, "\(error)")
        }
        // git://'s request names the repository and the host, and asks for version 2.
        XCTAssertTrue(GitFetch(ref: "main", maximumPack: 1).opening(path: "/site.git", host: "10.0.2.2")
            .starts(with: Array("0037git-upload-pack /site.git\0host=10.0.2.2\0\0version=2\0".utf8)))
    }
}
