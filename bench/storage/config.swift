import MirageConfig

// The storage benchmark (scripts/bench-storage runs it): sequential
// throughput of the raw block device and of the chosen store.
let store = Key.configure("store", doc: "the store measured beside the raw disk",
                          default: "littlefs", choices: ["crunch", "tar", "littlefs"])

let files = Device.match(store, cases: [
    "crunch": crunch("data", name: "files"),
    "tar": tarStore(on: disk("archive", image: "data.tar"), name: "files"),
    "littlefs": littlefsStore(on: disk("archive", image: "data.lfs", size: .mebibytes(8), create: true), name: "files"),
])

let main = Job("StorageBench", needs: .console, .clock, .block, .kv, keys: [store])

register("storage-bench", main(defaultConsole, defaultClock, disk("raw", image: "raw.img", size: .mebibytes(8), create: true), files))
