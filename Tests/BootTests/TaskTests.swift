@testable import Boot
import XCTest

/// The scheduler and its one loop, on the host over ucontext, with a fake
/// clock (1 tick = 1 µs) that jumps to each deadline: run order, fairness,
/// time limits, cancellation, joins, channels, and many tasks.
final class TaskTests: XCTestCase {
    /// Runs `body` as the main task with `clock` attached.
    @discardableResult
    func run(_ clock: FakeClock = FakeClock(), interrupts: FakeInterrupts? = nil, _ body: @escaping () throws -> Int32) -> Int32 {
        Tasks.main {
            Tasks.attach(clock: clock)
            if let interrupts { Tasks.attach(interrupts: interrupts) }
            return try! body()
        }
    }

    func testMainsStatusIsReturnedAndTasksRunInTurn() {
        var log: [String] = []
        let status = run {
            for name in ["a", "b", "c"] {
                try! Tasks.spawn(name: "worker") {
                    for round in 1...2 {
                        log.append("\(name)\(round)")
                        Tasks.yield()
                    }
                }
            }
            log.append("main")
            Tasks.yield()
            Tasks.yield()
            Tasks.yield()
            return 7
        }
        XCTAssertEqual(status, 7)
        XCTAssertEqual(log, ["main", "a1", "b1", "c1", "a2", "b2", "c2"])
    }

    func testASleepEndsWithoutAnError() {
        let clock = FakeClock()
        run(clock) {
            XCTAssertNoThrow(try Tasks.sleep(nanoseconds: 2_000_000))
            XCTAssertEqual(clock.count, 2000)
            return 0
        }
    }

    func testSleepersWakeInDeadlineOrderAndTheLoopSleepsOncePerDeadline() {
        let clock = FakeClock()
        var log: [String] = []
        run(clock) {
            let tasks = [(3, "three"), (1, "one"), (2, "two")].map { milliseconds, name in
                try! Tasks.spawn(name: "sleeper") {
                    clock.sleep(milliseconds: UInt64(milliseconds))
                    log.append("\(name) at \(clock.count)")
                }
            }
            for task in tasks { try! task.join() }
            return 0
        }
        XCTAssertEqual(log, ["one at 1000", "two at 2000", "three at 3000"])
        XCTAssertEqual(clock.waits, 3, "one sleep per deadline: no spinning")
    }

    func testAWaitEndsAtItsDeadlineUnlessWokenFirst() {
        let clock = FakeClock()
        run(clock) {
            let queue = WaitQueue()
            XCTAssertThrowsError(try queue.wait(deadline: Tasks.deadline(afterNanoseconds: 500_000))) {
                XCTAssertEqual($0 as? WaitError, .timedOut)
            }
            XCTAssertEqual(clock.count, 500)
            try! Tasks.spawn(name: "waker") {
                clock.sleep(milliseconds: 1)
                queue.wakeAll()
            }
            XCTAssertNoThrow(try queue.wait(deadline: Tasks.deadline(afterNanoseconds: 10_000_000)))
            XCTAssertEqual(clock.count, 1500, "woken at once, not at the deadline")
            XCTAssertTrue(Tasks.running.timers.isEmpty, "the woken task left the timers")
            return 0
        }
    }

    func testAnInterruptHandlerWakesTheTaskThatWaitsForIt() {
        let clock = FakeClock()
        let queue = WaitQueue()
        var arrived = false
        clock.interrupts = [(at: 250, handler: { arrived = true; queue.wakeAll() })]
        run(clock) {
            XCTAssertNoThrow(try queue.wait(until: { arrived }, deadline: Tasks.deadline(afterNanoseconds: 1_000_000)))
            XCTAssertEqual(clock.count, 250)
            return 0
        }
    }

    func testABusyLoopStillLetsInterruptsIn() {
        let interrupts = FakeInterrupts()
        run(interrupts: interrupts) {
            for _ in 0..<160 { Tasks.yield() }
            return 0
        }
        XCTAssertGreaterThanOrEqual(interrupts.polls, 10, "pending interrupts are dispatched every 16th busy round")
    }

    func testCancelledTasksWaitsEndAndStayCancelled() {
        var outcomes: [String] = []
        run {
            let queue = WaitQueue()
            let worker = try! Tasks.spawn(name: "worker") {
                do throws(WaitError) { try queue.wait() } catch { outcomes.append("first: \(error)") }
                do throws(WaitError) { try Tasks.sleep(nanoseconds: 1_000) } catch { outcomes.append("second: \(error)") }
                outcomes.append("cancelled: \(Tasks.isCancelled)")
            }
            Tasks.yield()
            worker.cancel()
            try! worker.join()
            return 0
        }
        XCTAssertEqual(outcomes, ["first: cancelled", "second: cancelled", "cancelled: true"])
    }

    func testJoinWaitsForTheTaskOrItsTimeLimit() {
        let clock = FakeClock()
        run(clock) {
            let slow = try! Tasks.spawn(name: "slow") { clock.sleep(milliseconds: 5) }
            XCTAssertThrowsError(try slow.join(waitingAtMost: 1_000_000)) { XCTAssertEqual($0 as? WaitError, .timedOut) }
            XCTAssertFalse(slow.isFinished)
            XCTAssertNoThrow(try slow.join())
            XCTAssertTrue(slow.isFinished)
            XCTAssertEqual(clock.count, 5000)
            XCTAssertNoThrow(try slow.join(), "joining a finished task returns at once")
            return 0
        }
    }

    func testChannelPassesValuesInOrderAndBlocksWhenFull() {
        var received: [Int] = []
        var sentBeforeFirstReceive = 0
        run {
            let channel = Channel<Int>(capacity: 2)
            let producer = try! Tasks.spawn(name: "producer") {
                for value in 1...5 {
                    try! channel.send(value)
                    sentBeforeFirstReceive = max(sentBeforeFirstReceive, received.isEmpty ? value : 0)
                }
            }
            Tasks.yield()
            for _ in 1...5 { received.append(try! channel.receive()) }
            try! producer.join()
            return 0
        }
        XCTAssertEqual(received, [1, 2, 3, 4, 5])
        XCTAssertEqual(sentBeforeFirstReceive, 2, "the producer waited once the channel held its capacity")
    }

    func testReceiveTimesOutOnAnEmptyChannel() {
        let clock = FakeClock()
        run(clock) {
            let channel = Channel<Int>(capacity: 1)
            XCTAssertThrowsError(try channel.receive(deadline: Tasks.deadline(afterNanoseconds: 2_000_000)))
            XCTAssertEqual(clock.count, 2000)
            return 0
        }
    }

    func testSemaphoreAndLockLetOneTaskInAtATime() {
        var inside = 0, most = 0
        run {
            let lock = TaskLock()
            let workers = (0..<4).map { _ in
                try! Tasks.spawn(name: "worker") {
                    for _ in 0..<3 {
                        lock.withLock {
                            inside += 1
                            most = max(most, inside)
                            Tasks.yield()    // another task runs while this one holds the lock
                            inside -= 1
                        }
                    }
                }
            }
            for worker in workers { try! worker.join() }
            let semaphore = Semaphore(2)
            XCTAssertTrue(semaphore.tryAcquire())
            XCTAssertTrue(semaphore.tryAcquire())
            XCTAssertFalse(semaphore.tryAcquire())
            semaphore.release()
            XCTAssertNoThrow(try semaphore.acquire())
            return 0
        }
        XCTAssertEqual(most, 1)
    }

    func testALockHolderThatIsCancelledStillFinishesItsTurn() {
        var done = false
        run {
            let lock = TaskLock()
            let queue = WaitQueue()
            let holder = try! Tasks.spawn(name: "holder") {
                lock.withLock { try? queue.wait() }
            }
            let waiter = try! Tasks.spawn(name: "waiter") {
                lock.withLock { done = true }
            }
            Tasks.yield()
            waiter.cancel()       // cancelled while waiting for the lock: it still gets its turn
            holder.cancel()
            try! waiter.join()
            return 0
        }
        XCTAssertTrue(done)
    }

    func testAThousandTasksAndTheirStacksComeBack() {
        let clock = FakeClock()
        var finished = 0
        var peak = 0
        for _ in 0..<2 {
            run(clock) {
                let tasks = (0..<1000).map { index in
                    try! Tasks.spawn(name: "many", stackSize: 4096) {
                        clock.sleep(nanoseconds: UInt64(index % 7) * 1_000_000)
                        finished += 1
                    }
                }
                for task in tasks { try! task.join() }
                peak = Tasks.statistics.peak
                return 0
            }
        }
        XCTAssertEqual(finished, 2000)
        XCTAssertEqual(peak, 1001, "all at once, with main")
        let carved = Scheduler.stacks.next
        run(clock) {
            for _ in 0..<1000 { try! Tasks.spawn(name: "again", stackSize: 4096) {} }
            return 0
        }
        XCTAssertEqual(Scheduler.stacks.next, carved, "the second thousand ran on the first thousand's stacks")
    }

    func testStatisticsCountTasksAndStackDepth() {
        run {
            let deep = try! Tasks.spawn(name: "deep") {
                var buffer = [UInt8](repeating: 0, count: 64)
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8192) { scratch in
                    scratch.initialize(repeating: 1)
                    buffer[0] = scratch[8191]
                }
                XCTAssertEqual(buffer[0], 1)
            }
            try! deep.join()
            let statistics = Tasks.statistics
            XCTAssertEqual(statistics.created, 2)
            XCTAssertEqual(statistics.alive, 1)
            let mark = statistics.highWater.first { $0.name.utf8CodeUnitCount == 4 && String(decoding: UnsafeBufferPointer(start: $0.name.utf8Start, count: 4), as: UTF8.self) == "deep" }
            XCTAssertNotNil(mark)
            XCTAssertGreaterThanOrEqual(mark?.used ?? 0, 8192)
            return 0
        }
    }

    func testTimerHeapKeepsDeadlineOrderThroughInsertsAndRemovals() {
        var heap = TimerHeap()
        var generator = SplitMix(seed: 7)
        var tasks: [TaskHandle] = []
        let slot = TaskStacks.Slot(guardPage: 0, size: 0)
        for index in 0..<200 {
            let task = TaskHandle(name: "t", stack: slot, context: UnsafeMutableRawPointer(bitPattern: 16)!, body: {})
            task.deadline = generator.next() % 50
            task.timerSequence = UInt64(index)
            heap.insert(task)
            tasks.append(task)
        }
        for task in tasks where task.timerSequence % 3 == 0 { heap.remove(task) }
        var order: [(UInt64, UInt64)] = []
        while let first = heap.first {
            order.append((first.deadline, first.timerSequence))
            heap.remove(first)
        }
        XCTAssertEqual(order.count, tasks.filter { $0.timerSequence % 3 != 0 }.count)
        XCTAssertTrue(zip(order, order.dropFirst()).allSatisfy { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) })
    }
}

/// An interrupt controller that counts how often the loop looks for pending interrupts.
final class FakeInterrupts: InterruptController {
    var polls = 0
    var spuriousInterrupts = 0
    let cellsPerInterrupt = 1
    func line(fromSpecifier cells: Slice<DeviceTree.Cells>) -> UInt32? { cells.first }
    func enable(_ line: UInt32, handler: @escaping () -> Void) {}
    func dispatchPending() -> Int {
        polls += 1
        return 0
    }
}

/// Runs `body` as the first task of a loop with `clock` attached, as a
/// unikernel's glue runs drivers and the job; throws what `body` threw.
func onTheLoop(_ clock: FakeClock = FakeClock(), _ body: @escaping () throws -> Void) throws {
    var failure: Error?
    _ = Tasks.main {
        Tasks.attach(clock: clock)
        do { try body() } catch { failure = error }
        return 0
    }
    if let failure { throw failure }
}
