import MirageConfig

// A boot-time key: `mirage-config configure --message ...` sets its value in
// the device tree; `mirage-config run -- --message=...` overrides it at boot.
let message = Key.boot("message", doc: "What to print after the board's name", default: "Hello, world")
let count = Key.configure("count", doc: "How many times to print it", default: 3, range: 1...100)

// The unikernel's signature: the Swift type `Hello` whose start(console:clock:)
// takes a console and a clock.
let main = Job("Hello", needs: .console, .clock, keys: [message, count])

register("hello", main(defaultConsole, defaultClock))
