import MirageConfig

// The storage benchmark (scripts/bench-storage runs it): sequential
// throughput of the raw block device, of a 1 MiB get from the chosen store
// (which the script fills on the host: crunch and GNU tar from data/,
// littlefs-python for littlefs), and of a 1 MiB set and get on a scratch
// littlefs disk, the one store that takes writes.
let store = Key.configure("store", doc: "the store whose get is measured beside the raw disk",
                          default: "littlefs", choices: ["crunch", "tar", "littlefs"])

let files = Device.match(store, cases: [
    "crunch": crunch("data", name: "files"),
    "tar": tarStore(on: disk("archive", image: "data.tar"), name: "files"),
    "littlefs": littlefsStore(on: disk("archive", image: "data.lfs"), name: "files"),
])
let scratch = littlefsStore(on: disk("work", image: "scratch.lfs", size: .mebibytes(8), create: true), name: "scratch")

let main = Job("StorageBench", needs: .console, .clock, .block, .kv, .kvWriter, keys: [store])

register("storage-bench", main(defaultConsole, defaultClock, disk("raw", image: "raw.img", size: .mebibytes(8), create: true),
                               files, scratch))
