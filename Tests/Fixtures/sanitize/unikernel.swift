/// Three tasks share a counter over the loop, each with heap buffers it
/// fills and frees; then, if asked, one byte is written past a buffer.
struct Sanitized {
    static func start(console: some Console, clock: some Clock) -> Int32 {
        var total = 0
        var workers: [TaskHandle] = []
        for index in 1...3 {
            guard let worker = try? Tasks.spawn(name: "worker", { total += work(index, clock: clock) }) else { return 1 }
            workers.append(worker)
        }
        for worker in workers { try? worker.join() }
        console.log("total \(total)")
        if Keys.crash == "heap-overflow" {
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
            overrun(buffer, by: 16)
            buffer.deallocate()
        }
        console.log("done")
        return 0
    }

    static func work(_ index: Int, clock: some Clock) -> Int {
        var sum = 0
        for round in 0..<5 {
            let bytes = [UInt8](repeating: UInt8(index), count: 1000 * (round + 1))
            sum += bytes.reduce(0) { $0 + Int($1) }
            clock.sleep(milliseconds: 1)
        }
        return sum
    }

    /// Writes at `buffer[offset]`: past the end when `offset` is the capacity.
    @inline(never)
    static func overrun(_ buffer: UnsafeMutablePointer<UInt8>, by offset: Int) {
        buffer[offset] = 1
    }
}
