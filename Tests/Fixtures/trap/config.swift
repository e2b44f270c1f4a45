import MirageConfig

// A unikernel that faults on purpose, to test the fault path: an integer
// overflow (Swift traps: undefined instruction), or with --jump=ADDRESS a call
// into device memory, which the MMU maps execute-never (prefetch abort).
let start = Key.boot("start", doc: "Where the count starts", default: 2_147_483_646)
let jump = Key.boot("jump", doc: "An address to call instead of counting (0: do not)", default: 0)
let main = Job("Trap", needs: .console, keys: [start, jump])

register("trap", main(defaultConsole))
