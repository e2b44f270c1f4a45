/// Timers ordered by deadline: one-shot and periodic, many at once. Pure
/// logic over a tick count, so it is unit tested with a fake clock.
///
/// `takeDue` hands back the actions instead of running them, so an action
/// may schedule or cancel timers without touching the queue while it is
/// being changed.
public struct TimerQueue {
    /// Names a scheduled timer, for `cancel`.
    public struct ID: Equatable {
        let value: UInt32
    }

    struct Entry {
        let id: ID
        var deadline: UInt64
        /// 0 for a one-shot timer.
        let period: UInt64
        let action: () -> Void
    }

    /// By deadline, then by the order they were scheduled in.
    private var entries: [Entry] = []
    private var nextID: UInt32 = 0

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    /// The earliest deadline, if any timer is scheduled.
    public var nextDeadline: UInt64? { entries.first?.deadline }

    /// Schedules `action` at `deadline`, and every `period` ticks after it if `period` > 0.
    @discardableResult
    public mutating func schedule(at deadline: UInt64, every period: UInt64 = 0, _ action: @escaping () -> Void) -> ID {
        nextID &+= 1
        let id = ID(value: nextID)
        insert(Entry(id: id, deadline: deadline, period: period, action: action))
        return id
    }

    /// Removes the timer; nothing if it already ran (one-shot) or was cancelled.
    public mutating func cancel(_ id: ID) {
        entries.removeAll { $0.id == id }
    }

    /// The actions of every timer due at `now`, in deadline order. A periodic
    /// timer is scheduled again a whole number of periods after its last
    /// deadline: it does not drift, and a late wake-up runs it once, not once
    /// per missed period.
    public mutating func takeDue(now: UInt64) -> [() -> Void] {
        var due: [() -> Void] = []
        while let first = entries.first, first.deadline <= now {
            entries.removeFirst()
            due.append(first.action)
            if first.period > 0 {
                var again = first
                let missed = (now - first.deadline) / first.period
                again.deadline = first.deadline &+ (missed + 1) * first.period
                insert(again)
            }
        }
        return due
    }

    private mutating func insert(_ entry: Entry) {
        let index = entries.firstIndex { $0.deadline > entry.deadline } ?? entries.count
        entries.insert(entry, at: index)
    }
}
