/// Measures a round of the loop with two tasks: each yield is a switch to the
/// loop and one from it into the other task.
struct SwitchBench {
    static func start(console: some Console, clock: some Clock) -> Int32 {
        let rounds = Keys.rounds
        var counted = 0
        let other: TaskHandle
        do throws(TaskError) {
            other = try Tasks.spawn(name: "other") {
                for _ in 0..<rounds {
                    counted += 1
                    Tasks.yield()
                }
            }
        } catch {
            return 1
        }
        Tasks.yield()   // the other task starts
        let startCycles = Runtime.cycles, startTime = clock.now()
        for _ in 0..<rounds { Tasks.yield() }
        let cycles = Runtime.cycles &- startCycles, nanoseconds = clock.now() - startTime
        try? other.join()
        // Each round: this task yields, the other runs and yields: two task switches, each out to the loop and back in.
        let switches = UInt64(rounds) * 2
        print("\(switches) task switches: \(UInt64(cycles) / switches) cycles and \(nanoseconds / switches) ns each; \(counted) rounds in the other task")
        return 0
    }
}
