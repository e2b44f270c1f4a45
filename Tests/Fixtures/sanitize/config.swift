import MirageConfig

// The host target under a sanitizer (scripts/test runs it with
// `mirage-config test --sanitize address`): a clean run of tasks, a clock
// and heap memory passes, and a write past a buffer is caught and named.
let crash = Key.boot("crash", doc: "none, or heap-overflow: write one byte past a heap buffer", default: "none",
                     choices: ["none", "heap-overflow"])

let main = Job("Sanitized", needs: .console, .clock, keys: [crash])

register("sanitize", main(defaultConsole, defaultClock))
