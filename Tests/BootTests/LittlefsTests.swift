@testable import Boot
import Foundation
import XCTest

/// A disk in memory, with an optional limit on writes (to crash it).
final class MemoryDisk: BlockDevice {
    var bytes: [UInt8]
    var writes = 0
    /// After this many sector writes, writes fail (the disk stopped).
    var writeLimit = Int.max
    init(bytes: [UInt8]) { self.bytes = bytes }
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    /// Every sector written (sector, bytes), and a nil at each flush: a write log.
    var log: [(sector: Int, bytes: [UInt8])?] = []
    var geometry: BlockGeometry { BlockGeometry(sectorSize: 512, sectorCount: UInt64(bytes.count / 512), isReadOnly: false) }
    func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: false) { throw problem }
        let start = Int(sector) * 512
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: buffer.count) }
    }
    func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: true) { throw problem }
        for index in 0..<(buffer.count / 512) {
            guard writes < writeLimit else { throw .deviceError }
            writes += 1
            let start = (Int(sector) + index) * 512
            for byte in 0..<512 { bytes[start + byte] = buffer[index * 512 + byte] }
            log.append((Int(sector) + index, Array(bytes[start..<(start + 512)])))
        }
    }
    func flush() throws(BlockError) { log.append(nil) }
}

/// The littlefs store: its own round trips, remounts and damaged disks,
/// and, through littlefs-python (the reference C littlefs), images each
/// side wrote read by the other.
final class LittlefsTests: XCTestCase {
    func testFormatsABlankDiskAndKeepsWhatItWasGivenAcrossMounts() throws {
        let disk = MemoryDisk(size: 256 * 1024)
        let kv = LittlefsStore(device: disk)
        XCTAssertNil(kv.failure)
        XCTAssertTrue(kv.formatted)
        let free = try kv.freeSpace()
        let big = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 8) }
        try kv.set("small", Array("tiny".utf8))
        try kv.set("a/b/big.bin", big)
        try kv.set("a/note", Array("note".utf8))
        XCTAssertLessThan(try kv.freeSpace(), free)
        XCTAssertEqual(try kv.list(""), [KeyValueEntry(name: "a", kind: .dictionary), KeyValueEntry(name: "small", kind: .value)])
        XCTAssertEqual(try kv.list("a"), [KeyValueEntry(name: "b", kind: .dictionary), KeyValueEntry(name: "note", kind: .value)])
        let again = LittlefsStore(device: disk)
        XCTAssertNil(again.failure)
        XCTAssertFalse(again.formatted)
        XCTAssertEqual(try again.get("a/b/big.bin"), big)
        XCTAssertEqual(try again.get("a/b/big.bin", offset: 1000, length: 3000), Array(big[1000..<4000]))
        XCTAssertEqual(try again.get("a/b/big.bin", offset: 4990, length: 100), Array(big[4990...]))
        XCTAssertEqual(try again.size("a/b/big.bin"), 5000)
        XCTAssertEqual(try again.get("small"), Array("tiny".utf8))
        try again.set("a/b/big.bin", Array("now small".utf8))
        XCTAssertEqual(try again.freeSpace(), free - 2 * 512 * 2, "the big file's blocks are free again; the two directories keep their pairs")
        try again.rename("a/note", to: "moved/note")
        try again.rename("small", to: "a/b/small")
        try again.remove("moved")
        let third = LittlefsStore(device: disk)
        XCTAssertEqual(try third.list(""), [KeyValueEntry(name: "a", kind: .dictionary)])
        XCTAssertEqual(try third.get("a/b/small"), Array("tiny".utf8))
        XCTAssertNil(try third.exists("moved/note"))
        XCTAssertThrowsError(try third.get("a")) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
        XCTAssertThrowsError(try third.set("a/b/small/x", [1])) { XCTAssertEqual($0 as? KeyValueError, .wrongKind) }
        XCTAssertThrowsError(try third.rename("a", to: "a/b/c")) { XCTAssertEqual($0 as? KeyValueError, .invalidKey) }
        XCTAssertThrowsError(try third.set("", [1])) { XCTAssertEqual($0 as? KeyValueError, .invalidKey) }
    }

    /// A file whose blocks do not follow each other reads back whole and in
    /// ranges, with 512-byte blocks (runs read whole and copied) and 4 KiB
    /// ones (runs scattered into the value): both read runs on the guess that
    /// a file's blocks are consecutive, which each block's first pointer then
    /// confirms or corrects. littlefs itself reads the file too.
    func testAFileInBlocksThatDoNotFollowEachOtherReadsBackWholeAndInRanges() throws {
        let tool = try python()
        for size in [512 * 1024, 64 << 20] {
            let disk = MemoryDisk(size: size)
            let kv = LittlefsStore(device: disk)
            let blockSize = kv.blockSize
            // Every third block after the allocator's cursor taken: the file lies in pairs.
            for step in stride(from: UInt32(2), to: 300, by: 3) { kv.used[(kv.cursor + step) % kv.blockCount] = true }
            let value = (0..<(blockSize * 60 + 123)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            try kv.set("spread.bin", value)
            for reader in [kv, LittlefsStore(device: disk)] {
                XCTAssertEqual(try reader.get("spread.bin"), value, "block size \(blockSize)")
                for (offset, length) in [(0, 1), (1, blockSize), (blockSize - 3, 2 * blockSize + 7), (value.count - 10, 100), (12345, 54321)] {
                    XCTAssertEqual(try reader.get("spread.bin", offset: offset, length: length),
                                   Array(value[offset..<min(value.count, offset + length)]), "\(offset)+\(length), block size \(blockSize)")
                }
            }
            let image = FileManager.default.temporaryDirectory.appendingPathComponent("lfs-spread-\(UUID().uuidString).img")
            defer { try? FileManager.default.removeItem(at: image) }
            try Data(disk.bytes).write(to: image)
            let read = try run(pythonPath, [tool.path, "get", image.path, "spread.bin"])
            XCTAssertEqual(read.status, 0)
            XCTAssertEqual([UInt8](read.output), value, "littlefs reads the file, block size \(blockSize)")
        }
    }

    /// A large blank disk gets 4 KiB blocks (and a bitmap of them, not of bytes).
    func testALargeDiskIsFormattedWithLargerBlocks() throws {
        let disk = MemoryDisk(size: 64 << 20)
        let kv = LittlefsStore(device: disk)
        XCTAssertTrue(kv.formatted)
        XCTAssertEqual(kv.blockSize, 4096)
        XCTAssertEqual(try kv.freeSpace(), (64 << 20) - 2 * 4096)
        let value = [UInt8](repeating: 3, count: 100_000)
        try kv.set("a/big", value)
        XCTAssertEqual(try LittlefsStore(device: disk).get("a/big"), value)
        XCTAssertEqual(try LittlefsStore(device: disk).freeSpace(), (64 << 20) - 2 * 4096 - 2 * 4096 - 25 * 4096)
        let tool = try python()
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("lfs-large-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: image) }
        try Data(disk.bytes).write(to: image)
        XCTAssert(try self.tool(tool, ["tree", image.path]).contains("a/big 100000 "), "littlefs reads the 4 KiB-block image")
    }

    func testManyKeysSplitDirectoriesAndStayReadable() throws {
        let disk = MemoryDisk(size: 512 * 1024)
        let kv = LittlefsStore(device: disk)
        for index in 0..<120 { try kv.set("many/key-\(index)", Array("value \(index) ".utf8) + [UInt8](repeating: UInt8(index), count: index % 90)) }
        let again = LittlefsStore(device: disk)
        XCTAssertEqual(try again.list("many").count, 120)
        for index in stride(from: 0, to: 120, by: 7) {
            XCTAssertEqual(try again.get("many/key-\(index)"), Array("value \(index) ".utf8) + [UInt8](repeating: UInt8(index), count: index % 90))
        }
        for index in 0..<60 { try again.remove("many/key-\(index * 2)") }
        XCTAssertEqual(try LittlefsStore(device: disk).list("many").count, 60)
    }

    /// Random operations against a model, with remounts; each step's state
    /// must be what the model says.
    func testRandomOperationsMatchAModel() throws {
        var generator = SplitMix(seed: 42)
        let disk = MemoryDisk(size: 1024 * 1024)
        var kv = LittlefsStore(device: disk)
        var model: [String: [UInt8]] = [:]
        let keys = ["a", "b", "d/x", "d/y", "d/e/z", "f/g"]
        for step in 0..<400 {
            let key = keys[Int(generator.next() % UInt64(keys.count))]
            switch generator.next() % 5 {
            case 0, 1:
                let value = (0..<Int(generator.next() % 3000)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                do { try kv.set(key, value); model[key] = value } catch KeyValueError.wrongKind {}
            case 2:
                if model[key] != nil { try kv.remove(key); model[key] = nil }
            case 3:
                let target = keys[Int(generator.next() % UInt64(keys.count))]
                if let value = model[key], target != key {
                    do {
                        try kv.rename(key, to: target)
                        model[key] = nil
                        model = model.filter { !$0.key.hasPrefix(target + "/") }
                        model[target] = value
                    } catch KeyValueError.wrongKind {}
                }
            default:
                kv = LittlefsStore(device: disk)
                XCTAssertNil(kv.failure, "step \(step)")
            }
            for key in keys {
                let stored: [UInt8]? = (try? kv.exists(key)) == .value ? try kv.get(key) : nil
                XCTAssertEqual(stored, model[key], "step \(step), \(key)")
            }
        }
    }

    func testDamagedDisksNeverCrashTheStore() throws {
        let disk = MemoryDisk(size: 128 * 1024)
        let kv = LittlefsStore(device: disk)
        try kv.set("d/one", [UInt8](repeating: 1, count: 2000))
        try kv.set("two", Array("two".utf8))
        let original = disk.bytes
        var generator = SplitMix(seed: 7)
        for _ in 0..<1500 {
            let damaged = MemoryDisk(bytes: original)
            for _ in 0...(generator.next() % 8) {
                damaged.bytes[Int(generator.next() % UInt64(12 * 512))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            }
            let store = LittlefsStore(device: damaged)
            _ = try? store.list("")
            _ = try? store.get("d/one")
            _ = try? store.get("two")
            _ = try? store.set("three", [3])
        }
    }

    /// A disk that stops after each possible number of sector writes, across
    /// a stream of sets, overwrites, renames and removals: after a remount,
    /// the store holds exactly the state after the last acknowledged change,
    /// or after the change in flight (if it landed before the disk stopped).
    func testEveryCrashPointKeepsAcknowledgedChanges() throws {
        typealias Model = [String: [UInt8]]
        enum Change {
            case set(String, [UInt8]), rename(String, String), remove(String)
            func apply(_ model: Model) -> Model {
                var next = model
                switch self {
                case let .set(key, value): next[key] = value
                case let .rename(from, to): next[to] = next.removeValue(forKey: from)
                case let .remove(key): next[key] = nil
                }
                return next
            }
            func apply(_ kv: LittlefsStore<MemoryDisk>) throws {
                switch self {
                case let .set(key, value): try kv.set(key, value)
                case let .rename(from, to): try kv.rename(from, to: to)
                case let .remove(key): try kv.remove(key)
                }
            }
        }
        var changes: [Change] = []
        var model: Model = [:]
        for index in 0..<30 {
            let change: Change
            switch index % 7 {
            case 3 where model["k/\(index % 5)"] != nil: change = .rename("k/\(index % 5)", "r/\(index % 3)")
            case 6 where model["k/\(index % 4)"] != nil: change = .remove("k/\(index % 4)")
            default: change = .set("k/\(index % 5)", [UInt8](repeating: UInt8(index), count: index * 211 % 1700))
            }
            changes.append(change)
            model = change.apply(model)
        }
        /// Runs the changes until the disk fails: the state after the last
        /// acknowledged one, and after the one cut short.
        func run(_ disk: MemoryDisk) -> (acknowledged: Model, inFlight: Model?) {
            let kv = LittlefsStore(device: disk)
            var model: Model = [:]
            if kv.failure != nil { return (model, nil) }
            for change in changes {
                do { try change.apply(kv) } catch { return (model, change.apply(model)) }
                model = change.apply(model)
            }
            return (model, nil)
        }
        func contents(_ kv: LittlefsStore<MemoryDisk>) throws -> Model {
            var found: Model = [:]
            for folder in ["k", "r"] where try kv.exists(folder) == .dictionary {
                for entry in try kv.list(folder) { found[folder + "/" + entry.name] = try kv.get(folder + "/" + entry.name) }
            }
            return found
        }
        let whole = MemoryDisk(size: 192 * 1024)
        XCTAssertEqual(run(whole).acknowledged, model)
        var checked = 0
        for limit in 2..<whole.writes {
            let disk = MemoryDisk(size: 192 * 1024)
            disk.writeLimit = limit
            let outcome = run(disk)
            disk.writeLimit = .max
            let kv = LittlefsStore(device: disk)
            XCTAssertNil(kv.failure, "crash after \(limit) writes")
            let found = try contents(kv)
            XCTAssert(found == outcome.acknowledged || found == outcome.inFlight,
                      "crash after \(limit) writes: \(found.keys.sorted()) vs \(outcome.acknowledged.keys.sorted())")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 80)
    }

    /// A disk may reorder or drop the writes between two flushes when power
    /// fails: every image made of the writes before a flush and any subset
    /// of the next epoch's, in any order, mounts and holds the state at the
    /// start or the end of that epoch.
    func testReorderedWritesWithinAFlushEpochKeepAConsistentState() throws {
        let size = 128 * 1024
        let disk = MemoryDisk(size: size)
        let kv = LittlefsStore(device: disk)
        for index in 0..<16 {
            switch index % 6 {
            case 3: try kv.rename("k/\((index - 1) % 4)", to: "m/\(index % 2)")
            case 5: try kv.remove("k/\((index - 1) % 4)")
            default: try kv.set("k/\(index % 4)", [UInt8](repeating: UInt8(index), count: index * 331 % 1500))
            }
        }
        var epochs: [[(sector: Int, bytes: [UInt8])]] = [[]]
        for entry in disk.log {
            if let entry { epochs[epochs.count - 1].append(entry) } else { epochs.append([]) }
        }
        func state(_ bytes: [UInt8]) -> [String: [UInt8]]? {
            let store = LittlefsStore(device: MemoryDisk(bytes: bytes))
            guard store.failure == nil else { return bytes.allSatisfy { $0 == 0 } ? [:] : nil }
            var found: [String: [UInt8]] = [:]
            for folder in ["k", "m"] where (try? store.exists(folder)) == .dictionary {
                for entry in (try? store.list(folder)) ?? [] { found[folder + "/" + entry.name] = try? store.get(folder + "/" + entry.name) }
            }
            return found
        }
        var generator = SplitMix(seed: 99)
        var image = [UInt8](repeating: 0, count: size)
        var images = 0
        for epoch in epochs {
            var end = image
            for write in epoch { end.replaceSubrange((write.sector * 512)..<(write.sector * 512 + 512), with: write.bytes) }
            let allowed = [state(image), state(end)]
            for _ in 0..<min(16, 1 << epoch.count) {
                var trial = image
                var writes = epoch.filter { _ in generator.next() % 2 == 0 }
                for index in writes.indices.reversed() { writes.swapAt(index, Int(generator.next() % UInt64(index + 1))) }
                for write in writes { trial.replaceSubrange((write.sector * 512)..<(write.sector * 512 + 512), with: write.bytes) }
                let found = state(trial)
                XCTAssertNotNil(found)
                XCTAssert(allowed.contains { $0 == found }, "epoch with \(epoch.count) writes: \(found.map { $0.keys.sorted() } ?? [])")
                images += 1
            }
            image = end
        }
        XCTAssertGreaterThan(images, 60, "every epoch tried, up to 16 orders each")
    }

    // MARK: littlefs-python

    /// tools/littlefs-tool.py, once the environment has littlefs-python.
    func python() throws -> URL {
        pythonPath = try HostReference.python(with: "littlefs")
        return HostReference.packageRoot.appendingPathComponent("tools/littlefs-tool.py")
    }
    var pythonPath = "python3"

    func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: Data) {
        try HostReference.run(executable, arguments, input: input ?? Data())
    }

    func tool(_ tool: URL, _ arguments: [String], input: Data? = nil) throws -> String {
        let result = try run(pythonPath, [tool.path] + arguments, input: input)
        XCTAssertEqual(result.status, 0, "littlefs-tool \(arguments)")
        return String(decoding: result.output, as: UTF8.self)
    }

    func testLittlefsReadsWhatTheStoreWrote() throws {
        let tool = try python()
        let disk = MemoryDisk(size: 512 * 1024)
        let kv = LittlefsStore(device: disk)
        let big = (0..<20000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try kv.set("hello.txt", Array("hello\n".utf8))
        try kv.set("docs/big.bin", big)
        for index in 0..<40 { try kv.set("docs/many/\(index)", Array("v\(index)".utf8)) }
        try kv.rename("docs/many/3", to: "top-3")
        try kv.remove("docs/many/4")
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("lfs-\(UUID().uuidString).img")
        try Data(disk.bytes).write(to: image)
        let tree = try self.tool(tool, ["tree", image.path])
        XCTAssert(tree.contains("docs/big.bin 20000 "), tree)
        XCTAssert(tree.contains("hello.txt 6 "), tree)
        XCTAssert(tree.contains("top-3 2 "), tree)
        XCTAssertFalse(tree.contains("docs/many/4 "), tree)
        XCTAssertEqual(tree.split(separator: "\n").filter { $0.hasPrefix("docs/many/") && $0 != "docs/many/" }.count, 38)
        XCTAssertEqual(Array(try run(pythonPath, [tool.path, "get", image.path, "docs/big.bin"]).output), big)
        // littlefs writes into it; the store reads that back.
        _ = try self.tool(tool, ["put", image.path, "docs/from-littlefs", "/dev/stdin"], input: Data("written by littlefs".utf8))
        _ = try self.tool(tool, ["rm", image.path, "docs/many"])
        let after = LittlefsStore(device: MemoryDisk(bytes: Array(try Data(contentsOf: image))))
        XCTAssertNil(after.failure)
        XCTAssertEqual(try after.get("docs/from-littlefs"), Array("written by littlefs".utf8))
        XCTAssertNil(try after.exists("docs/many"))
        XCTAssertEqual(try after.get("docs/big.bin"), big)
    }

    func testTheStoreReadsWhatLittlefsWrote() throws {
        let tool = try python()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lfs-src-\(UUID().uuidString)")
        var files: [String: [UInt8]] = [:]
        for index in 0..<30 { files["flat/file-\(index)"] = Array("file \(index)".utf8) }
        files["deep/a/b/c.bin"] = (0..<70000).map { UInt8(truncatingIfNeeded: $0 * 7 % 256) }
        files["empty"] = []
        for (key, bytes) in files {
            let file = folder.appendingPathComponent(key)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        }
        for blockSize in [512, 4096] {
            let image = folder.appendingPathExtension("\(blockSize).img")
            _ = try self.tool(tool, ["make", image.path, folder.path, "--block-size", "\(blockSize)", "--size", "\(2 << 20)"])
            let disk = MemoryDisk(bytes: Array(try Data(contentsOf: image)))
            let kv = LittlefsStore(device: disk)
            XCTAssertNil(kv.failure, "block size \(blockSize)")
            for (key, bytes) in files { XCTAssertEqual(try kv.get(key), bytes, "\(key), block size \(blockSize)") }
            // Parts of a file of many blocks: at and across block boundaries, the first and last bytes.
            let big = files["deep/a/b/c.bin"]!
            let usable = blockSize - 8
            for (offset, length) in [(0, 1), (usable - 1, 2), (usable, usable), (3 * usable - 5, 4 * usable + 9),
                                     (big.count - 1, 10), (12345, 40000), (0, big.count)] {
                XCTAssertEqual(try kv.get("deep/a/b/c.bin", offset: offset, length: length),
                               Array(big[offset..<min(big.count, offset + length)]), "\(offset)+\(length), block size \(blockSize)")
            }
            XCTAssertEqual(try kv.list("flat").count, 30)
            // The store writes into littlefs's image; littlefs reads it.
            try kv.set("flat/file-3", Array("changed".utf8))
            try kv.set("new/one", [UInt8](repeating: 9, count: 9000))
            try kv.remove("deep")
            try Data(disk.bytes).write(to: image)
            XCTAssertEqual(try self.tool(tool, ["get", image.path, "flat/file-3"]), "changed")
            let tree = try self.tool(tool, ["tree", image.path])
            XCTAssert(tree.contains("new/one 9000 "), tree)
            XCTAssertFalse(tree.contains("deep"), tree)
        }
    }
}
