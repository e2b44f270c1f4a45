/// The one event loop under everything, in the manner of smoltcp's poll
/// with a deadline and MirageOS's main loop: it runs the ready tasks in
/// turn, each until it waits; wakes the tasks whose time limit has come;
/// lets pending interrupts in between busy rounds; and, with no task ready,
/// sleeps in `wfi` until the next deadline or an interrupt (`idle`, the one
/// place in the runtime that sleeps). Interrupt handlers run here, between
/// tasks: they only record what happened and wake the tasks waiting for it.
///
/// The loop runs on the boot stack; each task on its own (TaskStacks). A
/// switch saves the callee-saved registers (Start/context.S on ARM,
/// ucontext on the host, where the same loop runs under unit tests with a
/// fake clock).
final class Scheduler {
    var clock: (any Clock)?
    var interrupts: (any InterruptController)?
    /// The running task; nil while the loop itself runs.
    var current: TaskHandle?
    var ready = TaskQueue()
    var timers = TimerHeap()
    /// Every task not yet finished, oldest first.
    var all: [TaskHandle] = []
    var statistics = TaskStatistics()
    var nextTimerSequence: UInt64 = 0
    /// Rounds run with tasks still ready after them (a busy loop looks for interrupts every 16th).
    var busyRounds: UInt32 = 0

    /// The loop's registers while a task runs, and the running task's (raw
    /// pointers, so that a finished task's last switch holds no reference).
    nonisolated(unsafe) static var loopContext: UnsafeMutableRawPointer?
    nonisolated(unsafe) static var runningContext: UnsafeMutableRawPointer?
    /// The running task's name, for fault reports (nil: the loop runs).
    nonisolated(unsafe) static var runningName: StaticString?
    /// Where task stacks come from; one region, kept across loops (the host runs many).
    nonisolated(unsafe) static var stacks = TaskStacks()

    init() {
        if Scheduler.loopContext == nil {
            let size = Int(boot_context_size())
            Scheduler.loopContext = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        }
    }

    var now: UInt64 { clock?.ticks() ?? 0 }

    func deadline(afterNanoseconds nanoseconds: UInt64) -> UInt64 {
        guard nanoseconds != .max else { return .max }
        guard let clock else { Runtime.fatal("a wait with a time limit needs a clock: add defaultClock to the job in config.swift") }
        let start = clock.ticks(), ticks = clock.ticks(forNanoseconds: nanoseconds)
        return ticks > UInt64.max - start ? .max : start + ticks
    }

    // MARK: Tasks

    func spawn(name: StaticString, stackSize: Int, _ body: @escaping () -> Void) throws(TaskError) -> TaskHandle {
        let contextSize = (UInt(boot_context_size()) + 15) & ~15
        let wanted = max(UInt(max(stackSize, 0)), UInt(boot_task_stack_minimum())) + contextSize
        guard let slot = Scheduler.stacks.allocate(size: wanted) else { throw .noStackSpace }
        let context = UnsafeMutableRawPointer(bitPattern: (slot.top - contextSize) & ~15)!
        boot_context_prepare(context, slot.base, UInt(bitPattern: context) - slot.base, taskEntry)
        let task = TaskHandle(name: name, stack: slot, context: context, body: body)
        all.append(task)
        ready.append(task)
        statistics.created += 1
        statistics.alive += 1
        statistics.peak = max(statistics.peak, statistics.alive)
        return task
    }

    /// Runs the loop until `main` has returned.
    func run(until main: TaskHandle) {
        while !main.isFinished {
            wakeDueTasks()
            if ready.isEmpty {
                idle()
                continue
            }
            // One round: the tasks ready now, each once. Those they wake run next round.
            var round = ready.count
            while round > 0, !main.isFinished, let task = ready.popFirst() {
                round -= 1
                resume(task)
            }
            // Still busy: let interrupts in without sleeping, so a busy loop starves no
            // device; every 16th busy round, as asking the controller is a trap into QEMU.
            if !ready.isEmpty {
                busyRounds &+= 1
                if busyRounds & 15 == 0 { interrupts?.dispatchPending() }
            }
        }
    }

    /// Sleeps until the next deadline or an interrupt: the only `wfi` of the runtime.
    func idle() {
        statistics.sleeps += 1
        let next = timers.first?.deadline
        if let clock {
            let now = clock.ticks()
            if let next, next <= now { return }
            // At least once a second: the down-counting timers must be read before they wrap.
            let limit = now &+ clock.frequency
            clock.waitForInterrupt(orTicks: min(next ?? limit, limit))
        } else if let interrupts, next == nil {
            interrupts.waitForInterrupt()
        } else {
            Runtime.fatal("every task waits, and the image has no clock or interrupt to wake one")
        }
    }

    func resume(_ task: TaskHandle) {
        current = task
        task.state = .running
        statistics.switches &+= 1
        Scheduler.runningContext = task.context
        Scheduler.runningName = task.name
        boot_context_switch(Scheduler.loopContext!, task.context)
        Scheduler.runningContext = nil
        Scheduler.runningName = nil
        current = nil
        if task.state == .finished { retire(task) }
    }

    /// Back to the loop from the running task.
    func switchToLoop() {
        boot_context_switch(Scheduler.runningContext!, Scheduler.loopContext!)
    }

    func yield() {
        guard let task = current else { return }
        task.state = .ready
        ready.append(task)
        switchToLoop()
    }

    /// Parks the running task on `queue` (nil: only the deadline wakes it)
    /// until `deadline` (ticks); how it ended comes back as an error.
    func park(on queue: WaitQueue?, deadline: UInt64) throws(WaitError) {
        guard let task = current else { Runtime.fatal("a wait outside a task: waits park a task, and the loop runs none") }
        if task.isCancelled { throw .cancelled }
        // A deadline already past needs no reading of the clock here: the loop's next round wakes it timed out.
        wait(task, on: queue, deadline: deadline)
        switch task.outcome {
        case .woken: return
        case .timedOut: throw .timedOut
        case .cancelled: throw .cancelled
        }
    }

    /// Parks the running task on `queue` until it is woken there, whether or not it was cancelled.
    func parkIgnoringCancellation(on queue: WaitQueue) {
        guard let task = current else { Runtime.fatal("a wait outside a task: waits park a task, and the loop runs none") }
        repeat { wait(task, on: queue, deadline: .max) } while task.outcome == .cancelled
    }

    private func wait(_ task: TaskHandle, on queue: WaitQueue?, deadline: UInt64) {
        if queue == nil && deadline == .max { Runtime.fatal("a wait for nothing: no queue and no time limit") }
        task.outcome = .woken
        task.waitingOn = queue
        queue?.tasks.append(task)
        if deadline != .max {
            nextTimerSequence &+= 1
            task.deadline = deadline
            task.timerSequence = nextTimerSequence
            timers.insert(task)
        }
        task.state = .waiting
        switchToLoop()
    }

    /// Makes a waiting task ready, its wait ending with `outcome`.
    func wake(_ task: TaskHandle, _ outcome: WaitOutcome) {
        guard task.state == .waiting else { return }
        task.waitingOn?.remove(task)
        task.waitingOn = nil
        timers.remove(task)
        task.outcome = outcome
        task.state = .ready
        ready.append(task)
        Counters.wakeUps &+= 1
    }

    func wakeDueTasks() {
        guard !timers.isEmpty else { return }
        let now = self.now
        while let task = timers.first, task.deadline <= now { wake(task, .timedOut) }
    }

    /// The running task returned: it switches to the loop for the last
    /// time, holding no reference (the loop frees its stack once off it).
    static func finishRunningTask() -> Never {
        markRunningTaskFinished()
        boot_context_switch(runningContext!, loopContext!)
        Runtime.fatal("a finished task was resumed")
    }

    @inline(never)
    static func markRunningTaskFinished() {
        guard let task = Tasks.scheduler?.current else { return }
        task.state = .finished
        task.joiners.wakeAll()
    }

    func retire(_ task: TaskHandle) {
        statistics.alive -= 1
        statistics.record(task.name, used: Scheduler.stacks.used(task.stack), size: Int(task.stack.size))
        Scheduler.stacks.release(task.stack)
        if let index = all.firstIndex(where: { $0 === task }) { all.remove(at: index) }
    }

    /// The loop ends (the main task returned): the tasks still waiting are
    /// never resumed, and their stacks go back for the next loop (the host
    /// runs one per test).
    func abandonAll() {
        for task in all where task.state != .finished {
            task.state = .finished
            Scheduler.stacks.release(task.stack)
        }
        all.removeAll()
        ready = TaskQueue()
        timers = TimerHeap()
    }

    /// The high-water marks so far, the live tasks' included.
    var currentStatistics: TaskStatistics {
        var result = statistics
        for task in all { result.record(task.name, used: Scheduler.stacks.used(task.stack), size: Int(task.stack.size)) }
        return result
    }

    /// The task whose guard page holds `address`, for the fault report.
    static func task(guarding address: UInt) -> StaticString? {
        guard let scheduler = Tasks.scheduler else { return nil }
        for task in scheduler.all where address >= task.stack.guardPage && address - task.stack.guardPage < TaskStacks.pageSize {
            return task.name
        }
        return nil
    }
}

/// Where every task starts: its body, then the last switch away. The body
/// runs in a function of its own so that everything it held is released
/// before the switch, which never returns.
func taskEntry() {
    runBodyOfRunningTask()
    Scheduler.finishRunningTask()
}

@inline(never)
func runBodyOfRunningTask() {
    guard let task = Tasks.running.current, let body = task.body else { return }
    task.body = nil
    body()
}

/// Ready tasks in arrival order (an array with a moving head).
struct TaskQueue {
    private var tasks: [TaskHandle] = []
    private var head = 0

    var isEmpty: Bool { head == tasks.count }
    var count: Int { tasks.count - head }

    mutating func append(_ task: TaskHandle) { tasks.append(task) }

    mutating func popFirst() -> TaskHandle? {
        guard head < tasks.count else { return nil }
        let task = tasks[head]
        head += 1
        if head == tasks.count {
            tasks.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= tasks.count {
            tasks.removeFirst(head)
            head = 0
        }
        return task
    }
}

/// Waiting tasks with a time limit, earliest first (then in the order they
/// began to wait): a binary heap in which each task knows its place, so that
/// a task woken before its time leaves the heap at once.
struct TimerHeap {
    private var tasks: [TaskHandle] = []

    var isEmpty: Bool { tasks.isEmpty }
    var count: Int { tasks.count }
    var first: TaskHandle? { tasks.first }

    mutating func insert(_ task: TaskHandle) {
        task.timerIndex = tasks.count
        tasks.append(task)
        siftUp(tasks.count - 1)
    }

    /// Takes `task` out, if it is in.
    mutating func remove(_ task: TaskHandle) {
        let index = task.timerIndex
        guard index >= 0, index < tasks.count, tasks[index] === task else { return }
        task.timerIndex = -1
        let last = tasks.removeLast()
        guard index < tasks.count else { return }
        tasks[index] = last
        last.timerIndex = index
        siftDown(index)
        siftUp(index)
    }

    private func earlier(_ a: Int, _ b: Int) -> Bool {
        let x = tasks[a], y = tasks[b]
        return x.deadline != y.deadline ? x.deadline < y.deadline : x.timerSequence < y.timerSequence
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        tasks.swapAt(a, b)
        tasks[a].timerIndex = a
        tasks[b].timerIndex = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard earlier(child, parent) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < tasks.count && earlier(left, first) { first = left }
            if right < tasks.count && earlier(right, first) { first = right }
            guard first != parent else { return }
            swapAt(parent, first)
            parent = first
        }
    }
}

// Start/context.S and Start/tasks.c (BootHostStubs on the host).
@_extern(c) func boot_context_size() -> UInt
@_extern(c) func boot_context_prepare(_ context: UnsafeMutableRawPointer, _ base: UInt, _ size: UInt,
                                      _ entry: @convention(c) () -> Void)
@_extern(c) func boot_context_switch(_ save: UnsafeMutableRawPointer, _ load: UnsafeMutableRawPointer)
@_extern(c) func boot_task_stack_minimum() -> UInt
