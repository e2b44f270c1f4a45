/// The loop drivers and jobs wait in, in the manner of smoltcp's poll with a
/// deadline and MirageOS's main loop: it runs the timers that are due,
/// computes the next deadline, arms the clock's alarm for it and sleeps in
/// `wfi`; any interrupt wakes it, its handler runs (see InterruptController),
/// and the loop looks again. Generic over the clock, so it is specialised
/// to the board's driver, and unit tested with a fake one.
public final class EventLoop<C: Clock> {
    public let clock: C
    var timers = TimerQueue()

    public init(clock: C) { self.clock = clock }

    /// Runs `action` once, after `nanoseconds`.
    @discardableResult
    public func after(nanoseconds: UInt64, _ action: @escaping () -> Void) -> TimerQueue.ID {
        timers.schedule(at: clock.ticks() &+ clock.ticks(forNanoseconds: nanoseconds), action)
    }

    /// Runs `action` every `nanoseconds`, first after one period.
    @discardableResult
    public func every(nanoseconds: UInt64, _ action: @escaping () -> Void) -> TimerQueue.ID {
        let period = max(1, clock.ticks(forNanoseconds: nanoseconds))
        return timers.schedule(at: clock.ticks() &+ period, every: period, action)
    }

    public func cancel(_ timer: TimerQueue.ID) { timers.cancel(timer) }

    /// Runs timers and sleeps between them until `done()` is true, or until
    /// `nanoseconds` have passed if given. `done` is asked after every
    /// wake-up (a timer, or an interrupt whose handler changed something);
    /// returns whether it became true.
    @discardableResult
    public func run(forAtMost nanoseconds: UInt64? = nil, until done: () -> Bool) -> Bool {
        let deadline = nanoseconds.map { clock.ticks() &+ clock.ticks(forNanoseconds: $0) }
        while true {
            for action in timers.takeDue(now: clock.ticks()) { action() }
            if done() { return true }
            if let deadline, clock.ticks() >= deadline { return false }
            guard let wake = [timers.nextDeadline, deadline].compactMap({ $0 }).min() else {
                Runtime.fatal("the event loop waits for nothing: no timer, no deadline")
            }
            if clock.ticks() < wake { clock.waitForInterrupt(orTicks: wake) }
        }
    }

    /// Sleeps `nanoseconds`, running timers that fall due meanwhile.
    public func sleep(nanoseconds: UInt64) {
        run(forAtMost: nanoseconds) { false }
    }
}
