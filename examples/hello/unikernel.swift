/// Prints "Hello from BOARD: MESSAGE" Keys.count times, a timer sleep apart,
/// then exits 0.
struct Hello {
    static func start(console: some Console, clock: some Clock) -> Int32 {
        for round in 1...Keys.count {
            console.log("Hello from \(Board.name): \(Keys.message) (\(round)/\(Keys.count))")
            clock.sleep(milliseconds: 200)
        }
        console.log("Goodbye after \(clock.now() / 1_000_000) ms")
        return 0
    }
}
