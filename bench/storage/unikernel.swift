/// Sequential throughput: 4 MiB written to and read from the raw disk in
/// 64 KiB requests; a 1 MiB value read from the chosen store; a 1 MiB value
/// set and read back on a littlefs scratch disk. Prints KiB/s as measured
/// by the board's clock and the guest instructions each took (counted under
/// QEMU's -icount only: the figures the instruction-count test holds).
/// Each measured step is done once before, untimed: QEMU translates guest
/// code the first time it runs, a one-off cost that would otherwise fall
/// on whichever step runs a path first.
struct StorageBench {
    static func start(console: some Console, clock: some Clock, block: some BlockDevice, kv: some KeyValueReader,
                      kvWriter scratch: some KeyValueWriter) -> Int32 {
        let chunk = [UInt8](repeating: 0xA5, count: 64 * 1024)
        let total = 4 * 1024 * 1024
        do throws(BlockError) {
            try block.write(sector: 0, chunk)
            try block.flush()
            _ = try block.read(sector: 0, count: chunk.count / 512)
            var started = clock.now(), counted = Runtime.instructions
            for offset in stride(from: 0, to: total, by: chunk.count) { try block.write(sector: UInt64(offset / 512), chunk) }
            try block.flush()
            report("raw disk write", bytes: total, since: started, counted, clock)
            started = clock.now(); counted = Runtime.instructions
            for offset in stride(from: 0, to: total, by: chunk.count) { _ = try block.read(sector: UInt64(offset / 512), count: chunk.count / 512) }
            report("raw disk read", bytes: total, since: started, counted, clock)
        } catch {
            print("raw disk failed: \(error.reason.text)")
            return 1
        }
        // The littlefs figures name a block size other than 512 bytes.
        let suffix = Keys.littlefsBlocks == "512" ? "" : ", \(Keys.littlefsBlocks)-byte blocks"
        let value = (0..<(1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        do throws(KeyValueError) {
            _ = try kv.get("big.bin")
            try scratch.set("warm-up.bin", value)
            _ = try scratch.get("warm-up.bin")
            var started = clock.now(), counted = Runtime.instructions
            let stored = try kv.get("big.bin")
            report("\(Keys.store) get 1 MiB\(suffix)", bytes: stored.count, since: started, counted, clock)
            guard stored == value else { print("\(Keys.store): big.bin differs from what the host wrote"); return 1 }
            started = clock.now(); counted = Runtime.instructions
            try scratch.set("big.bin", value)
            report("littlefs set 1 MiB\(suffix)", bytes: value.count, since: started, counted, clock)
            started = clock.now(); counted = Runtime.instructions
            let back = try scratch.get("big.bin")
            report("littlefs get 1 MiB (what it set)\(suffix)", bytes: back.count, since: started, counted, clock)
            guard back == value else { print("the value read back differs"); return 1 }
        } catch {
            print("a store failed: \(error.reason.text)")
            return 1
        }
        return 0
    }

    static func report(_ what: String, bytes: Int, since start: UInt64, _ instructions: UInt32, _ clock: some Clock) {
        let nanoseconds = max(1, clock.now() - start), counted = Runtime.instructions &- instructions
        // The counter runs under -icount only; without it there is no count to print.
        print("\(what): \(UInt64(bytes) * 1_000_000_000 / 1024 / nanoseconds) KiB/s" + (counted > 0 ? ", \(counted) instructions" : ""))
    }
}
