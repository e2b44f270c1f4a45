import MirageConfig

// The storage benchmark (scripts/bench-storage runs it): sequential
// throughput of the raw block device, of a 1 MiB get from the chosen store
// (which the script fills on the host: crunch and GNU tar from data/,
// littlefs-python for littlefs), and of a 1 MiB set and get on a scratch
// littlefs disk, the one store that takes writes.
let store = Key.configure("store", doc: "the store whose get is measured beside the raw disk",
                          default: "littlefs", choices: ["crunch", "tar", "littlefs"])

// littlefs's block size: 512 bytes (littlefs-python's default, and what
// the unikernel formats a disk of up to 32 MiB with) or 4 KiB (above).
let blocks = Key.configure("littlefs-blocks", doc: "the block size of both littlefs disks",
                           default: "512", choices: ["512", "4096"])

let files = Device.match(store, cases: [
    "crunch": crunch("data", name: "files"),
    "tar": tarStore(on: disk("archive", image: "data.tar"), name: "files"),
    "littlefs": Device.match(blocks, cases: [
        "512": littlefsStore(on: disk("archive", image: "data.lfs"), name: "files"),
        "4096": littlefsStore(on: disk("archive", image: "data-4k.lfs"), name: "files"),
    ]),
])
let scratch = Device.match(blocks, cases: [
    "512": littlefsStore(on: disk("work", image: "scratch.lfs", size: .mebibytes(8), create: true), name: "scratch"),
    "4096": littlefsStore(on: disk("work", image: "scratch-4k.lfs", size: .mebibytes(64), create: true), name: "scratch"),
])

let main = Job("StorageBench", needs: .console, .clock, .block, .kv, .kvWriter, keys: [store, blocks])

register("storage-bench", main(defaultConsole, defaultClock, disk("raw", image: "raw.img", size: .mebibytes(8), create: true),
                               files, scratch))
