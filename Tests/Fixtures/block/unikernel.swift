/// Checks a block device against a disk the host prepared (boot-test.yaml):
/// sector n of the first 8 starts with "sector n"; writes a pattern at
/// sector 16 that the host then checks, across more than one request's
/// worth of data; reads it back; and checks that bad requests fail as values.
struct BlockCheck {
    static func start(console: some Console, block: some BlockDevice) -> Int32 {
        let geometry = block.geometry
        print("geometry: \(geometry.sectorCount) sectors of \(geometry.sectorSize) bytes, read-only \(geometry.isReadOnly)")
        for index in 0..<8 {
            let sector: [UInt8]
            do throws(BlockError) {
                sector = try block.read(sector: UInt64(index), count: 1)
            } catch {
                print("read of sector \(index) failed: \(error.reason)")
                return 1
            }
            let text = String(decoding: sector.prefix { $0 != 0 }, as: UTF8.self)
            guard text == "sector \(index)" else {
                print("sector \(index) holds \"\(text)\"")
                return 1
            }
        }
        print("read 8 sectors the host wrote")

        // 160 KiB: more than one request's bounce buffer.
        let count = 320
        let pattern = (0..<(count * geometry.sectorSize)).map { UInt8(truncatingIfNeeded: $0 / geometry.sectorSize &+ $0 % 251) }
        do throws(BlockError) {
            try block.write(sector: 16, pattern)
            try block.flush()
        } catch {
            print("write failed: \(error.reason)")
            return 1
        }
        var back: [UInt8] = []
        do throws(BlockError) {
            back = try block.read(sector: 16, count: count)
        } catch {
            print("read back failed: \(error.reason)")
            return 1
        }
        guard back == pattern else { print("read back differs from what was written"); return 1 }
        print("wrote, flushed and read back \(count) sectors")

        let past = check("a read past the end", expect: .outOfRange) { () throws(BlockError) in
            _ = try block.read(sector: geometry.sectorCount, count: 1)
        }
        let partial = check("a write of half a sector", expect: .unaligned) { () throws(BlockError) in
            try block.write(sector: 0, [UInt8](repeating: 0, count: 256))
        }
        guard past && partial else { return 1 }
        print("block: ok")
        return 0
    }

    static func check(_ what: StaticString, expect: BlockError, _ body: () throws(BlockError) -> Void) -> Bool {
        do throws(BlockError) {
            try body()
            print("\(what.text) succeeded, expected \(expect.reason.text)")
            return false
        } catch {
            guard error == expect else { print("\(what.text) failed with \(error.reason.text), expected \(expect.reason.text)"); return false }
            print("\(what.text) failed as it should: \(error.reason.text)")
            return true
        }
    }
}
