import MirageConfig

// A website: the files of a store over HTTP/1.1 (GET and HEAD; Content-Type by
// extension, ETag and If-None-Match, Range, index.html for folders), each
// connection served by a task of its own. --site picks where the files are:
//   folder: htdocs/ baked into the image at build time
//   commit: the files of a commit of the git repository site-repo/ (crunch from git)
//   git:    a git pack on a disk, read on demand: mirage-config kv pack --git REPO@main -o site.git
//   remote: a git daemon's repository, fetched at start and pulled again while
//           serving (every --git-pull-every seconds): commit to it, and the site changes;
//           each fetch kept on a littlefs disk, served at the next boot before its first pull.
//           git daemon --export-all --base-path=. --reuseaddr --port=19418 & (in the folder above site-repo/)
// Try it: mirage-config run --forward tcp:8080:80, then open http://127.0.0.1:8080/
let site = Key.configure("site", doc: "folder: htdocs/ in the image; commit: site-repo/'s main in the image; git: a git pack on a disk; remote: a git daemon's repository, pulled while serving",
                         default: "folder", choices: ["folder", "commit", "git", "remote"])

let stack = genericStack()
let files = Device.match(site, cases: [
    "folder": crunch("htdocs", name: "files"),
    "commit": crunch(git: "site-repo", ref: "main", name: "files"),
    "git": gitStore(on: disk("site", image: "site.git"), ref: "main", name: "files"),
    "remote": gitRemote(stack, url: "git://10.0.2.2:19418/site-repo", ref: "main", every: 30,
                        keepingIn: littlefsStore(on: disk("siteCache", image: "site-cache.lfs", size: .mebibytes(16), create: true), name: "cache"),
                        name: "files"),
])

let requests = Key.boot("requests", doc: "Stop after answering this many requests (0: never)", default: 0, range: 0...1_000_000)
let idleTimeout = Key.boot("idle-timeout", doc: "Close a kept-alive connection after this many seconds without a request", default: 60,
                           range: 1...3600)
let logRequests = Key.boot("log-requests", doc: "Print a line per request answered", default: true)

let main = Job("Website", needs: .console, .stack, .kv, keys: [requests, idleTimeout, logRequests])

register("website", main(defaultConsole, stack, files))
