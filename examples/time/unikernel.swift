/// Prints the UTC time and where it came from, then again two seconds on;
/// exits 2 when the unikernel has no trusted time.
struct TimeOfDay {
    static func start(console: some Console, clock: some Clock, wallClock: some WallClock) -> Int32 {
        guard let start = wallClock.now() else {
            console.log("time: unknown, \(wallClock.source)")
            return 2
        }
        console.log("time source: \(wallClock.source)")
        console.log("time: \(start.iso8601)")
        clock.sleep(milliseconds: 2000)
        guard let later = wallClock.now(), later.secondsSinceEpoch - start.secondsSinceEpoch >= 2 else {
            console.log("the wall clock did not move on with the monotonic clock")
            return 1
        }
        console.log("two seconds on: \(later.iso8601)")
        return 0
    }
}
