struct Trap {
    static func start(console: some Console) -> Int32 {
        if Keys.jump != 0 {
            console.log("calling \(Keys.jump)")
            let target = unsafeBitCast(UInt(Keys.jump), to: (@convention(c) () -> Void).self)
            target()
            console.log("not reached")
            return 0
        }
        var count = Int32(truncatingIfNeeded: Keys.start)
        for _ in 0..<4 {
            console.log("count \(count)")
            count += 1          // traps on overflow past Int32.max
        }
        console.log("not reached")
        return 0
    }
}
