import MirageConfig

// A unikernel that faults on purpose, to test the fault path: an integer
// overflow (Swift traps: undefined instruction), or with --jump=ADDRESS a call
// into device memory, which the MMU maps execute-never (prefetch abort), or
// with --recurse a recursion without end (the stack's guard page: a data abort).
let start = Key.boot("start", doc: "Where the count starts", default: 2_147_483_646)
let jump = Key.boot("jump", doc: "An address to call instead of counting (0: do not)", default: 0)
let recurse = Key.boot("recurse", doc: "Recurse without end instead of counting: a stack overflow", default: false)
let crash = Key.boot("crash", doc: "Stop the job this way: fatal-error, index, unwrap or status (0 ... none)", default: "none",
                     choices: ["none", "fatal-error", "index", "unwrap", "status"])
// With --in-task, the same happens in a task of its own ("worker"), which the report names.
let inTask = Key.boot("in-task", doc: "Do it in a spawned task named worker, not in the job's own", default: false)
let main = Job("Trap", needs: .console, keys: [start, jump, recurse, crash, inTask])

register("trap", main(defaultConsole))
