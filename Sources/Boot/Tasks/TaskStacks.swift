/// The stacks of the tasks, from one region (the linker script's
/// `.task_stacks`, mapped page by page; an mmap on the host). Each stack has
/// a guard page below it that is left unmapped, so that a task running off
/// its stack faults at once and the fault report names it, instead of
/// overwriting the stack below. A finished task's stack is kept, guard and
/// all, for the next task that asks for as much.
///
/// A new stack is filled with a pattern, so that how deep a task went is
/// seen afterwards (`used`), for `run --timings`.
struct TaskStacks {
    /// A stack: its guard page, then `size` bytes.
    struct Slot {
        let guardPage: UInt
        let size: UInt
        var base: UInt { guardPage + TaskStacks.pageSize }
        var top: UInt { base + size }
    }

    static let pageSize: UInt = 4096
    static let pattern: UInt32 = 0x5A5A_5A5A

    var next: UInt = 0
    var end: UInt = 0
    /// Stacks given back, to hand out again.
    var free: [Slot] = []

    /// A stack of at least `size` bytes, or nil when the region is full.
    mutating func allocate(size: UInt) -> Slot? {
        let size = (size + TaskStacks.pageSize - 1) & ~(TaskStacks.pageSize - 1)
        let slot: Slot
        if let index = free.firstIndex(where: { $0.size == size }) {
            slot = free.remove(at: index)
        } else if let fresh = carve(size) {
            slot = fresh
        } else if let index = smallestFree(atLeast: size) {
            slot = free.remove(at: index)
        } else {
            return nil
        }
        paint(slot)
        return slot
    }

    mutating func release(_ slot: Slot) { free.append(slot) }

    /// A new slot from the untouched part of the region, its guard page unmapped.
    private mutating func carve(_ size: UInt) -> Slot? {
        if end == 0 {
            next = (UInt(bitPattern: boot_task_stacks_start()) + TaskStacks.pageSize - 1) & ~(TaskStacks.pageSize - 1)
            end = UInt(bitPattern: boot_task_stacks_end())
        }
        guard next < end, TaskStacks.pageSize + size <= end - next else { return nil }
        let slot = Slot(guardPage: next, size: size)
        next += TaskStacks.pageSize + size
        boot_page_unmap(slot.guardPage)
        return slot
    }

    private func smallestFree(atLeast size: UInt) -> Int? {
        var best: Int?
        for (index, slot) in free.enumerated() where slot.size >= size && (best == nil || slot.size < free[best!].size) {
            best = index
        }
        return best
    }

    private func paint(_ slot: Slot) {
        let words = UnsafeMutablePointer<UInt32>(bitPattern: slot.base)!
        words.initialize(repeating: TaskStacks.pattern, count: Int(slot.size / 4))
    }

    /// How many bytes of the stack have been written, from the top down.
    func used(_ slot: Slot) -> Int {
        let words = UnsafePointer<UInt32>(bitPattern: slot.base)!
        var untouched = 0
        let count = Int(slot.size / 4)
        while untouched < count && words[untouched] == TaskStacks.pattern { untouched += 1 }
        return Int(slot.size) - untouched * 4
    }
}

@_extern(c) func boot_task_stacks_start() -> Int
@_extern(c) func boot_task_stacks_end() -> Int
@_extern(c) func boot_page_unmap(_ address: UInt)
