/// Feeds the watchdog three times, then stops and waits for it to expire;
/// exits 0 if it expired no sooner than its timeout, 1 otherwise.
struct Guarded {
    static func start(console: some Console, clock: some Clock, watchdog: some Watchdog) -> Int32 {
        let feedEvery = watchdog.timeoutMilliseconds / 2
        for round in 1...3 {
            clock.sleep(milliseconds: feedEvery)
            if watchdog.expired { console.log("watchdog expired while it was being fed"); return 1 }
            watchdog.feed()
            console.log("fed the watchdog (\(round)/3)")
        }
        console.log("no more feeds")
        while !watchdog.expired { clock.sleep(milliseconds: 5) }
        let waited = watchdog.millisecondsSinceFeed
        console.log("watchdog expired after \(waited) ms without a feed (timeout \(watchdog.timeoutMilliseconds) ms)")
        return waited > watchdog.timeoutMilliseconds ? 0 : 1
    }
}
