import MirageConfig

// A unikernel that overflows an integer on purpose: Swift traps, and the
// runtime must report the fault and end qemu with a non-zero status.
let start = Key.boot("start", doc: "Where the count starts", default: 2_147_483_646)
let main = Job("Trap", needs: .console, keys: [start])

register("trap", main(defaultConsole))
