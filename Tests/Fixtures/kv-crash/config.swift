import MirageConfig

// The crash test's unikernel: a stream of changes to a littlefs store, each
// acknowledged on the console once it returns (durable), or, with
// --mode=verify, a listing of every key with its size and BLAKE2s digest.
let mode = Key.boot("mode", doc: "write: the stream of changes; verify: list every key", default: "write", choices: ["write", "verify"])

let main = Job("CrashStream", needs: .console, .kvWriter, keys: [mode])

register("kv-crash", main(defaultConsole, littlefsStore(on: disk("data", image: "data.lfs", size: .kibibytes(512), create: true))))
