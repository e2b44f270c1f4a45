@testable import Boot
import XCTest

/// Timers and the event loop, with a fake clock (1 tick = 1 µs).
final class EventLoopTests: XCTestCase {
    func testTimersRunInDeadlineOrderTiesInSchedulingOrder() {
        var queue = TimerQueue()
        var ran: [String] = []
        queue.schedule(at: 30) { ran.append("c") }
        queue.schedule(at: 10) { ran.append("a") }
        queue.schedule(at: 30) { ran.append("d") }
        queue.schedule(at: 20) { ran.append("b") }
        XCTAssertEqual(queue.nextDeadline, 10)
        XCTAssertEqual(queue.takeDue(now: 5).count, 0)
        queue.takeDue(now: 30).forEach { $0() }
        XCTAssertEqual(ran, ["a", "b", "c", "d"])
        XCTAssertTrue(queue.isEmpty)
    }

    func testCancelledTimersDoNotRun() {
        var queue = TimerQueue()
        var ran = 0
        let id = queue.schedule(at: 10) { ran += 1 }
        queue.schedule(at: 20) { ran += 10 }
        queue.cancel(id)
        queue.cancel(id)
        queue.takeDue(now: 100).forEach { $0() }
        XCTAssertEqual(ran, 10)
    }

    func testPeriodicTimersDoNotDriftAndRunOnceAfterALateWake() {
        var queue = TimerQueue()
        var runs = 0
        queue.schedule(at: 100, every: 100) { runs += 1 }
        queue.takeDue(now: 130).forEach { $0() }
        XCTAssertEqual(queue.nextDeadline, 200, "the next run keeps to the period, not to when this one ran")
        queue.takeDue(now: 555).forEach { $0() }
        XCTAssertEqual(runs, 2, "missed periods are not run in a burst")
        XCTAssertEqual(queue.nextDeadline, 600)
    }

    func testLoopSleepsUntilEachDeadlineAndRunsTimersInOrder() {
        let clock = FakeClock()
        let loop = EventLoop(clock: clock)
        var log: [String] = []
        loop.after(nanoseconds: 3_000_000) { log.append("3 ms at \(clock.count)") }
        loop.every(nanoseconds: 1_000_000) { log.append("tick at \(clock.count)") }
        loop.sleep(nanoseconds: 3_500_000)
        // At 3000 both are due: the periodic one was queued again after the 3 ms timer.
        XCTAssertEqual(log, ["tick at 1000", "tick at 2000", "3 ms at 3000", "tick at 3000"])
        XCTAssertEqual(clock.count, 3500)
        XCTAssertEqual(clock.waits, 4, "one wait per deadline: no spinning")
    }

    func testLoopWakesForAnInterruptBeforeItsDeadline() {
        let clock = FakeClock()
        let loop = EventLoop(clock: clock)
        var received = false
        clock.interrupts = [(at: 250, handler: { received = true })]
        XCTAssertTrue(loop.run(forAtMost: 1_000_000) { received })
        XCTAssertEqual(clock.count, 250, "it returned at the interrupt, not at the deadline")
        XCTAssertFalse(loop.run(forAtMost: 500_000) { false }, "nothing came: the deadline ends the wait")
        XCTAssertEqual(clock.count, 750)
    }

    func testTimersMayScheduleTimers() {
        let clock = FakeClock()
        let loop = EventLoop(clock: clock)
        var chain: [UInt64] = []
        func link() {
            chain.append(clock.count)
            if chain.count < 3 { loop.after(nanoseconds: 10_000, link) }
        }
        loop.after(nanoseconds: 10_000, link)
        loop.run { chain.count == 3 }
        XCTAssertEqual(chain, [10, 20, 30])
    }

    func testSleepOfTheClockWaitsForItsAlarm() {
        let clock = FakeClock()
        clock.sleep(milliseconds: 2)
        XCTAssertEqual(clock.count, 2000)
        XCTAssertEqual(clock.waits, 1)
        XCTAssertEqual(clock.ticks(forNanoseconds: 1), 1, "rounded up: a sleep is never shorter than asked")
    }
}
