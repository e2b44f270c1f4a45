@testable import Boot
import Foundation
import XCTest

/// The tar store against archives written by GNU tar and Python's tarfile,
/// and against thousands of damaged archives (none may crash it).
final class TarStoreTests: XCTestCase {
    /// Files of a folder, by key.
    static let files: [String: [UInt8]] = [
        "hello.txt": Array("Hello\n".utf8),
        "empty": [],
        "exactly-one-block": [UInt8](repeating: 7, count: 512),
        "docs/readme.md": Array("# Docs\n".utf8),
        "docs/deeper/data.bin": (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) },
        // Over 100 bytes: ustar splits it into prefix and name.
        String(repeating: "d", count: 60) + "/" + String(repeating: "f", count: 70) + ".txt": Array("long name\n".utf8),
    ]

    func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString)")
        for (key, bytes) in TarStoreTests.files {
            let file = folder.appendingPathComponent(key)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        }
        return folder
    }

    func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(arguments)")
    }

    func gnuTar() throws -> [UInt8] {
        let source = try folder(), archive = source.appendingPathExtension("tar")
        try run(["tar", "--format=ustar", "-cf", archive.path, "-C", source.path, "."])
        return Array(try Data(contentsOf: archive))
    }

    func pythonTar() throws -> [UInt8] {
        let source = try folder(), archive = source.appendingPathExtension("tar")
        try run(["python3", "-c", "import tarfile,sys; t=tarfile.open(sys.argv[1],'w',format=tarfile.USTAR_FORMAT); t.add(sys.argv[2], arcname=''); t.close()",
                 archive.path, source.path])
        return Array(try Data(contentsOf: archive))
    }

    func store(_ bytes: [UInt8]) -> TarStore<MemoryArchive> {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        copy.copyBytes(from: bytes)
        return TarStore(source: MemoryArchive(start: UnsafeRawPointer(copy.baseAddress), count: bytes.count))
    }

    func checkServesEveryFile(_ archive: [UInt8]) throws {
        let kv = store(archive)
        XCTAssertNil(kv.failure)
        for (key, bytes) in TarStoreTests.files {
            XCTAssertEqual(try kv.get(key), bytes, key)
            XCTAssertEqual(try kv.size(key), bytes.count, key)
            XCTAssertEqual(try kv.exists(key), .value, key)
            // Computed once, then remembered: the same both times, and BLAKE2s of the bytes.
            XCTAssertEqual(try kv.digest(key), BLAKE2s.hash(bytes), key)
            XCTAssertEqual(try kv.digest(key), BLAKE2s.hash(bytes), key)
        }
        XCTAssertThrowsError(try kv.digest("docs")) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
        XCTAssertEqual(try kv.list("").map(\.name), ["d" + String(repeating: "d", count: 59), "docs", "empty", "exactly-one-block", "hello.txt"])
        XCTAssertEqual(try kv.list("docs"), [KeyValueEntry(name: "deeper", kind: .dictionary), KeyValueEntry(name: "readme.md", kind: .value)])
        XCTAssertEqual(try kv.list("/docs//"), try kv.list("docs"), "keys are paths: extra slashes do not matter")
        XCTAssertEqual(try kv.get("docs/deeper/data.bin", offset: 2998, length: 10), Array(TarStoreTests.files["docs/deeper/data.bin"]![2998...]))
        XCTAssertEqual(try kv.get("hello.txt", offset: 100, length: 5), [])
        XCTAssertEqual(try kv.exists("docs/deeper"), .dictionary)
        XCTAssertNil(try kv.exists("nothing"))
        XCTAssertThrowsError(try kv.get("docs")) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
        XCTAssertThrowsError(try kv.get("nothing")) { XCTAssertEqual($0 as? KeyValueError, .notFound) }
        XCTAssertThrowsError(try kv.list("hello.txt")) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
    }

    func testServesGNUTarArchives() throws { try checkServesEveryFile(try gnuTar()) }

    func testServesPythonTarfileArchives() throws { try checkServesEveryFile(try pythonTar()) }

    func testAnEmptySourceIsAnEmptyStore() throws {
        let kv = store([])
        XCTAssertEqual(try kv.list(""), [])
        XCTAssertEqual(try store([UInt8](repeating: 0, count: 1024)).list(""), [])
    }

    func testNumbersInOctalAndBase256() {
        XCTAssertEqual(TarFormat.number(ArraySlice(Array("00000001750\0".utf8))), 1000)
        XCTAssertEqual(TarFormat.number(ArraySlice(Array("   1750 \0".utf8))), 1000)
        XCTAssertEqual(TarFormat.number(ArraySlice([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00])), 512)
        XCTAssertNil(TarFormat.number(ArraySlice(Array("12a4\0".utf8))))
        XCTAssertNil(TarFormat.number(ArraySlice(Array("\0\0\0".utf8))))
    }

    /// Damaged headers are refused (every header has a checksum); damaged
    /// data cannot be told from data, but is never read outside its member.
    func testDamagedArchivesNeverCrashAndBadHeadersAreRefused() throws {
        let original = try gnuTar()
        var generator = SystemRandomNumberGenerator()
        var refused = 0
        for round in 0..<3000 {
            var damaged = original
            switch round % 3 {
            case 0:   // flip bytes anywhere
                for _ in 0...Int.random(in: 0..<4, using: &generator) {
                    damaged[Int.random(in: 0..<damaged.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                }
            case 1:   // cut it short
                damaged = Array(damaged.prefix(Int.random(in: 0..<damaged.count, using: &generator)))
            default:  // a header's size field rewritten, checksum fixed up: sizes past the end must be refused
                let header = 512 * Int.random(in: 0..<(damaged.count / 512), using: &generator)
                for index in 124..<135 { damaged[header + index] = UInt8(ascii: "7") }
                var sum = 0
                for index in 0..<512 { sum += (148..<156).contains(index) ? 32 : Int(damaged[header + index]) }
                let text = Array(String(sum, radix: 8).utf8)
                for index in 0..<8 { damaged[header + 148 + index] = index < text.count ? text[index] : 0 }
            }
            let kv = store(damaged)
            if kv.failure != nil { refused += 1; XCTAssertThrowsError(try kv.list("")); continue }
            // Whatever it serves stays inside the archive.
            for entry in (try? kv.list("")) ?? [] where entry.kind == .value {
                _ = try? kv.get(entry.name)
            }
            _ = try? kv.get("docs/deeper/data.bin")
        }
        XCTAssertGreaterThan(refused, 500, "damage to headers must be caught")
    }
}
