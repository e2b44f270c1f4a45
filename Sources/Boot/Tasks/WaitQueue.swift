/// Tasks parked until something happens: data on a connection, a request
/// done by a device, room in a channel. Whoever makes it happen (an
/// interrupt handler, the network's poll, another task) wakes them; each
/// woken task looks again at what it waited for.
///
/// No wake-up is lost: handlers run only in the loop, between tasks, so
/// nothing can happen between a task's look at its condition and its park.
public final class WaitQueue {
    var tasks: [TaskHandle] = []

    public init() {}

    /// Whether no task waits here.
    public var isEmpty: Bool { tasks.isEmpty }

    /// Parks the running task until it is woken here, the loop's clock
    /// reaches `deadline` (ticks; `.max`: never), or it is cancelled.
    public func wait(deadline: UInt64 = .max) throws(WaitError) {
        try Tasks.running.park(on: self, deadline: deadline)
    }

    /// Parks the running task until `condition()` holds, looking again at
    /// each wake-up here; throws at `deadline` (ticks) or on cancellation.
    public func wait(until condition: () -> Bool, deadline: UInt64 = .max) throws(WaitError) {
        while !condition() { try wait(deadline: deadline) }
    }

    /// Makes every task waiting here ready.
    public func wakeAll() {
        guard !tasks.isEmpty, let scheduler = Tasks.scheduler else { return }
        let waiting = tasks
        tasks.removeAll(keepingCapacity: true)
        for task in waiting {
            task.waitingOn = nil
            scheduler.wake(task, .woken)
        }
    }

    /// Makes the task that has waited here longest ready; false if none waits.
    @discardableResult
    public func wakeOne() -> Bool {
        guard !tasks.isEmpty, let scheduler = Tasks.scheduler else { return false }
        let task = tasks.removeFirst()
        task.waitingOn = nil
        scheduler.wake(task, .woken)
        return true
    }

    func remove(_ task: TaskHandle) {
        if let index = tasks.firstIndex(where: { $0 === task }) { tasks.remove(at: index) }
    }
}

/// A counting semaphore: `acquire` takes a unit or waits for one, `release` gives one back.
public final class Semaphore {
    public private(set) var available: Int
    let waiters = WaitQueue()

    public init(_ units: Int) { available = units }

    /// Takes a unit, waiting until one is free, at most until `deadline` (ticks).
    public func acquire(deadline: UInt64 = .max) throws(WaitError) {
        try waiters.wait(until: { available > 0 }, deadline: deadline)
        available -= 1
    }

    /// Takes a unit if one is free now.
    public func tryAcquire() -> Bool {
        guard available > 0 else { return false }
        available -= 1
        return true
    }

    /// Gives a unit back and wakes a waiter for it.
    public func release() {
        available += 1
        waiters.wakeOne()
    }
}

/// One task at a time in a stretch of code that may wait inside (a block
/// device's request, a store's update): the others wait their turn.
public final class TaskLock {
    let semaphore = Semaphore(1)

    public init() {}

    /// Runs `body` holding the lock, waiting for it without a time limit.
    /// Cancellation does not break in: a half-done update would be worse.
    public func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        while !semaphore.tryAcquire() { Tasks.running.parkIgnoringCancellation(on: semaphore.waiters) }
        defer { semaphore.release() }
        return try body()
    }
}

/// A bounded queue between tasks: `send` waits while it is full, `receive`
/// while it is empty.
public final class Channel<Element> {
    var items: [Element] = []
    var head = 0
    public let capacity: Int
    let notEmpty = WaitQueue()
    let notFull = WaitQueue()

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Elements waiting to be received.
    public var count: Int { items.count - head }

    /// Queues `element`, waiting for room at most until `deadline` (ticks).
    public func send(_ element: Element, deadline: UInt64 = .max) throws(WaitError) {
        try notFull.wait(until: { count < capacity }, deadline: deadline)
        items.append(element)
        notEmpty.wakeOne()
    }

    /// The oldest element, waiting for one at most until `deadline` (ticks).
    public func receive(deadline: UInt64 = .max) throws(WaitError) -> Element {
        try notEmpty.wait(until: { count > 0 }, deadline: deadline)
        let element = items[head]
        head += 1
        if head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        notFull.wakeOne()
        return element
    }
}
