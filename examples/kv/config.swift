import MirageConfig

// One job, any store: --store picks where its files are.
//   crunch: htdocs/ baked into the image at build time
//   tar:    a ustar archive of htdocs/ on a disk (kv pack htdocs -o data.tar)
let store = Key.configure("store", doc: "crunch: htdocs/ in the image; tar: a tar archive on a disk",
                          default: "crunch", choices: ["crunch", "tar"])

let files = Device.match(store, cases: [
    "crunch": crunch("htdocs", name: "files"),
    "tar": tarStore(on: disk("data", image: "data.tar"), name: "files"),
])

let main = Job("KVDemo", needs: .console, .kv)

register("kv", main(defaultConsole, files))
