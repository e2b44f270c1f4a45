/// Cooperative tasks on one core, as MirageOS gives each connection an Lwt
/// thread: each task has its own stack (with an unmapped guard page below
/// it) and runs until it waits. A wait is a plain call that parks the task
/// (there is no `async`/`await`: the toolchain has no concurrency runtime
/// for this target); the loop (Scheduler.swift) runs the next ready task, and
/// with none ready sleeps in `wfi` until a timer or an interrupt makes one
/// ready. The job's `start` is the first task; the unikernel ends when it
/// returns, whatever other tasks are doing.
///
///     let worker = try Tasks.spawn(name: "worker") { serve(connection) }
///     try worker.join(waitingAtMost: 5_000_000_000)
public enum Tasks {
    /// The loop of the running image (or of the host test that runs one).
    nonisolated(unsafe) static var scheduler: Scheduler?

    /// A task's stack when `spawn` is not told otherwise. Measure with
    /// `run --timings`, which reports each kind of task's high-water mark.
    public static let defaultStackSize = 16 * 1024
    /// The first task's stack: the glue, the drivers' bring-up and the job's `start`.
    public static let mainStackSize = 64 * 1024

    /// Runs `body` as the first task, named "main", and the loop under it
    /// until `body` returns; returns what it returned. The glue calls this.
    public static func main(stackSize: Int = mainStackSize, _ body: @escaping () -> Int32) -> Int32 {
        guard scheduler == nil else { Runtime.fatal("Tasks.main runs once: the loop is already running") }
        let loop = Scheduler()
        scheduler = loop
        defer {
            loop.abandonAll()
            scheduler = nil
        }
        var status: Int32 = 0
        let first: TaskHandle
        do throws(TaskError) {
            first = try loop.spawn(name: "main", stackSize: stackSize) { status = body() }
        } catch {
            Runtime.fatal("no room for the main task's stack: ", error.reason)
        }
        loop.run(until: first)
        return status
    }

    /// Starts `body` as a new task, ready to run at the loop's next round;
    /// the caller goes on. Throws when the task stacks region has no room
    /// (raise `memory.task-stacks` in targets/BOARD.yaml).
    @discardableResult
    public static func spawn(name: StaticString, stackSize: Int = defaultStackSize,
                             _ body: @escaping () -> Void) throws(TaskError) -> TaskHandle {
        try running.spawn(name: name, stackSize: stackSize, body)
    }

    /// The task that is running.
    public static var current: TaskHandle {
        guard let task = running.current else { Runtime.fatal("Tasks.current outside a task") }
        return task
    }

    /// Whether the running task was asked to stop (`cancel()`): its waits
    /// throw `.cancelled`, and long work should look here now and then.
    public static var isCancelled: Bool { running.current?.isCancelled ?? false }

    /// Lets every other ready task run once, then goes on.
    public static func yield() { running.yield() }

    /// Waits `nanoseconds`; throws `.cancelled` if the task is cancelled meanwhile.
    public static func sleep(nanoseconds: UInt64) throws(WaitError) {
        do {
            try running.park(on: nil, deadline: deadline(afterNanoseconds: nanoseconds))
        } catch .timedOut {
            return      // the time came: what a sleep waits for
        }
    }

    /// The loop's clock in ticks (0 while it has none): what deadlines are measured in.
    public static var now: UInt64 { running.now }

    /// Nanoseconds since the loop's clock started (0 while it has none).
    public static var uptime: UInt64 {
        guard let clock = running.clock else { return 0 }
        return clock.now()
    }

    /// The tick `nanoseconds` from now, for the waits' deadlines; `UInt64.max`
    /// (never) for `UInt64.max` nanoseconds.
    public static func deadline(afterNanoseconds nanoseconds: UInt64) -> UInt64 {
        running.deadline(afterNanoseconds: nanoseconds)
    }

    /// Nanoseconds from now until `deadline` (ticks, as `deadline(afterNanoseconds:)`
    /// gives them; 0 once it has passed; `.max` for `.max`): what is left of a
    /// wait, for a call that takes a time limit in nanoseconds.
    public static func nanoseconds(untilDeadline deadline: UInt64) -> UInt64 {
        guard deadline != .max else { return .max }
        guard let clock = running.clock else { return 0 }
        let now = clock.ticks()
        return deadline > now ? ticksToNanoseconds(deadline - now, frequency: clock.frequency) : 0
    }

    /// Gives the loop its clock: deadlines are in its ticks, and idle waits
    /// arm its alarm. The clock drivers' glue calls this; the first one counts.
    public static func attach(clock: some Clock) {
        if running.clock == nil { running.clock = clock }
    }

    /// Gives the loop the interrupt controller, so that it dispatches pending
    /// interrupts between busy rounds, not only when it sleeps.
    public static func attach(interrupts: some InterruptController) {
        if running.interrupts == nil { running.interrupts = interrupts }
    }

    /// What the loop has done so far: tasks, switches, stacks.
    public static var statistics: TaskStatistics { running.currentStatistics }

    static var running: Scheduler {
        guard let scheduler else { Runtime.fatal("no task is running: waits and spawns need the loop (Tasks.main)") }
        return scheduler
    }
}

/// A task: to wait for it to finish, or to ask it to stop.
public final class TaskHandle {
    /// What fault reports and statistics call it.
    public let name: StaticString
    enum State { case ready, running, waiting, finished }
    var state = State.ready
    var body: (() -> Void)?
    let stack: TaskStacks.Slot
    /// Where its registers are kept while it does not run (the top of its stack slot).
    let context: UnsafeMutableRawPointer
    public private(set) var isCancelled = false
    /// How its last wait ended.
    var outcome = WaitOutcome.woken
    /// The queue it waits on, if any, and its place in the loop's timers (-1: none).
    var waitingOn: WaitQueue?
    var deadline: UInt64 = 0
    var timerIndex = -1
    var timerSequence: UInt64 = 0
    /// Tasks waiting in `join`.
    let joiners = WaitQueue()

    init(name: StaticString, stack: TaskStacks.Slot, context: UnsafeMutableRawPointer, body: @escaping () -> Void) {
        self.name = name
        self.stack = stack
        self.context = context
        self.body = body
    }

    /// Whether it has returned.
    public var isFinished: Bool { state == .finished }

    /// Waits until the task has returned, at most `nanoseconds`.
    public func join(waitingAtMost nanoseconds: UInt64 = .max) throws(WaitError) {
        let deadline = Tasks.deadline(afterNanoseconds: nanoseconds)
        while state != .finished { try joiners.wait(deadline: deadline) }
    }

    /// Asks the task to stop: a wait it is in ends with `.cancelled`, and so
    /// does every later one. It runs on until it returns, to clean up.
    public func cancel() {
        guard !isCancelled, state != .finished else { return }
        isCancelled = true
        if state == .waiting { Tasks.running.wake(self, .cancelled) }
    }
}

/// Why a wait ended without what it waited for.
public enum WaitError: Error, Equatable {
    /// Its time limit passed.
    case timedOut
    /// The task was cancelled.
    case cancelled

    public var reason: StaticString {
        switch self {
        case .timedOut: return "timed out"
        case .cancelled: return "cancelled"
        }
    }
}

/// Why a task could not be started.
public enum TaskError: Error, Equatable {
    /// The task stacks region is full.
    case noStackSpace

    public var reason: StaticString {
        switch self {
        case .noStackSpace: return "the task stacks region is full (memory.task-stacks in targets/BOARD.yaml)"
        }
    }
}

enum WaitOutcome { case woken, timedOut, cancelled }

/// Counts the loop keeps, for `run --timings` and tests.
public struct TaskStatistics {
    /// Tasks started, the first included.
    public internal(set) var created = 0
    /// The most tasks alive at one time.
    public internal(set) var peak = 0
    /// Tasks alive now.
    public internal(set) var alive = 0
    /// Switches into tasks.
    public internal(set) var switches: UInt64 = 0
    /// Times the loop slept waiting for a timer or an interrupt.
    public internal(set) var sleeps: UInt64 = 0
    /// The deepest stack use seen, per task name (finished tasks, and the
    /// live ones when `TaskStatistics` is read), with the stack's size.
    public internal(set) var highWater: [(name: StaticString, used: Int, size: Int)] = []

    mutating func record(_ name: StaticString, used: Int, size: Int) {
        if let index = highWater.firstIndex(where: { $0.name.utf8CodeUnitCount == name.utf8CodeUnitCount
            && sameBytes($0.name.utf8Start, name.utf8Start, name.utf8CodeUnitCount) }) {
            highWater[index].used = max(highWater[index].used, used)
            highWater[index].size = max(highWater[index].size, size)
        } else {
            highWater.append((name, used, size))
        }
    }
}
