import MirageConfig

// The task switch's cost (scripts/bench): two tasks hand the CPU to each other
// with Tasks.yield() many times; the guest's cycle counter measures it (under
// QEMU's -icount shift=0, one cycle per guest instruction).
let rounds = Key.boot("rounds", doc: "How many times each task yields", default: 20000, range: 1...10_000_000)
let main = Job("SwitchBench", needs: .console, .clock, keys: [rounds])

register("tasks-bench", main(defaultConsole, defaultClock))
