import MirageConfig

// One job that only reads, any store: --store picks where its files are.
// (A job that writes takes a .kvWriter, and only littlefs is one: examples/counter.)
//   crunch:   htdocs/ baked into the image at build time (read-only)
//   tar:      a ustar archive on a disk: mirage-config kv pack htdocs -o data.tar (read-only)
//   littlefs: a littlefs file system on a disk, made by littlefs-python or mirage-config kv put
//   git:      a commit's files in a git pack on a disk: mirage-config kv pack --git REPO@main -o data.git (read-only)
let store = Key.configure("store", doc: "crunch: htdocs/ in the image; tar: a tar archive on a disk; littlefs: a read-write littlefs disk; git: a git pack on a disk",
                          default: "crunch", choices: ["crunch", "tar", "littlefs", "git"])

let files = Device.match(store, cases: [
    "crunch": crunch("htdocs", name: "files"),
    "tar": tarStore(on: disk("data", image: "data.tar"), name: "files"),
    "littlefs": littlefsStore(on: disk("data", image: "data.lfs", size: .mebibytes(1), create: true), name: "files"),
    "git": gitStore(on: disk("data", image: "data.git"), ref: "main", name: "files"),
])

let main = Job("KVDemo", needs: .console, .kv)

register("kv", main(defaultConsole, files))
