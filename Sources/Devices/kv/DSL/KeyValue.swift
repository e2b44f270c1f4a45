// Key-value stores, as MirageOS's Mirage_kv: several implementations, so that
// a job's code runs unchanged on any of them. Two types: a job that only
// reads takes `.kv` and runs on any store; one that writes takes `.kvWriter`,
// and giving it a read-only store is an error at configure time.

extension DeviceType {
    /// Values under path-like keys, read: files baked into the image, a tar
    /// archive, a littlefs file system or a git pack on a disk. The job takes
    /// it as `kv: some KeyValueReader`.
    public static let kv = DeviceType("kv")
    /// A store that also takes writes: a littlefs file system on a disk. The
    /// job takes it as `kvWriter: some KeyValueWriter`; it fits where `.kv` is needed too.
    public static let kvWriter = DeviceType("kv-writer", standingInFor: [.kv])
}

/// A read-only store of the files in `directory` (relative to config.swift),
/// baked into the image at build time (MirageOS's crunch).
public func crunch(_ directory: String, name: String = "kv", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    checkFolderName(directory, at: location)
    return Device(.kv, name: name, implementation: .driver("kv-crunch"), parameters: ["directory": directory], location: location)
}

/// A read-only store of the files of one commit of a git repository, baked
/// into the image at build time (crunch, from git): `ref`'s commit, not the
/// working tree, so uncommitted edits are not in the image. `repository` is
/// a folder relative to config.swift, or a URL that `configure` clones into
/// the tool's cache (and fetches again at each configure). A repository that
/// does not exist or a ref that names no commit is an error at configure.
public func crunch(git repository: String, ref: String = "HEAD", name: String = "kv", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    if repository.isEmpty || repository.contains("\0") || repository.contains("\n") || repository.hasPrefix("-") {
        Diagnostics.error("\(String(reflecting: repository)) is not a git repository's folder or URL", at: location,
                          fix: "name a folder relative to config.swift, such as \"site\", or a URL such as \"https://example.org/site.git\"")
    }
    checkRefName(ref, ancestry: true, at: location)
    return Device(.kv, name: name, implementation: .driver("kv-crunch"), parameters: ["git": repository, "ref": ref], location: location)
}

/// A read-only store in a tar (ustar) archive on `disk`, read in place.
/// `tar --format=ustar -cf disk.img -C DIR .` or `mirage-config kv pack DIR -o disk.img` makes one.
public func tarStore(on disk: Device, name: String = "kv", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    checkBlock(disk, for: "tarStore", at: location)
    return Device(.kv, name: name, implementation: .driver("kv-tar"), arguments: [disk], location: location)
}

/// A read-only store of one commit's files in a git pack on `disk`, read in
/// place and checked against git's SHA-1 names (as MirageOS's docteur).
/// `mirage-config kv pack --git REPO[@REF] -o disk.img` makes the disk with
/// git. `ref`, when given, must be the ref the disk was packed from ("main"
/// or "refs/heads/main"); the unikernel refuses another disk.
public func gitStore(on disk: Device, ref: String? = nil, name: String = "kv", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    checkBlock(disk, for: "gitStore", at: location)
    if let ref { checkRefName(ref, at: location) }
    return Device(.kv, name: name, implementation: .driver("kv-git"), arguments: [disk], parameters: ["ref": ref ?? ""], location: location)
}

/// The repository a remote git store follows, and how often it pulls: boot
/// keys, so a board's image can be pointed at another server without a rebuild.
public let gitRemoteKey = Key.boot("git-remote", doc: "The git repository the store follows: git://HOST[:PORT]/PATH (git daemon) or http://HOST[:PORT]/PATH (smart HTTP)",
                                   default: "")
public let gitPullEveryKey = Key.boot("git-pull-every", doc: "Seconds between pulls of the remote git repository", default: 30,
                                      range: 1...86_400)

/// A read-only store that follows `ref` (a branch or a tag) of the git
/// repository at `url` (`git://HOST[:PORT]/PATH`, as `git daemon` serves it,
/// or `http://HOST[:PORT]/PATH`, as `git http-backend` does: smart HTTP),
/// over `stack` (as MirageOS's git-kv): fetched at start with git's protocol
/// version 2, then pulled again every `every` seconds while it is served; a
/// new commit is switched to whole, between requests, and a pull that fails
/// keeps the commit served. The URL and the interval are the boot keys
/// `--git-remote` and `--git-pull-every` (these their defaults). With
/// `keepingIn` (a writable store: littlefs on a disk), each fetch is kept
/// there, and a reboot serves the last one before its first pull.
public func gitRemote(_ stack: Device, url: String, ref: String = "main", every seconds: Int = 30, keepingIn cache: Device? = nil,
                      name: String = "kv", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    if stack.type != .stack {
        Diagnostics.error("gitRemote needs a network stack, not a \(stack.type)", at: location, fix: "pass the stack the job uses (let stack = genericStack)")
    }
    if let cache, cache.type != .kvWriter {
        Diagnostics.error("gitRemote(keepingIn:) needs a writable store, not a \(cache.type)", at: location,
                          fix: "pass littlefsStore(on: disk(\"cache\", image: \"cache.lfs\", size: .mebibytes(8), create: true))")
    }
    if !(1...86_400).contains(seconds) {
        Diagnostics.error("gitRemote(every:) is \(seconds) seconds, outside 1...86400", at: location, fix: "pull every 1 to 86400 seconds")
    }
    checkRefName(ref, at: location)
    return Device(.kv, name: name, implementation: .driver("kv-git-remote"), arguments: [stack] + (cache.map { [$0] } ?? []),
                  keys: [gitRemoteKey.declaration.defaulting(to: url).formatted("git-url"),
                         gitPullEveryKey.declaration.defaulting(to: String(seconds))],
                  parameters: ["ref": ref], location: location)
}

/// Git's rules for a ref's name (git check-ref-format), those a typing slip
/// breaks; `ancestry`: "main~1" and "v1.0^2" (a commit counted back from a ref) fit too.
func checkRefName(_ ref: String, ancestry: Bool = false, at location: SourceLocation) {
    let forbidden: Set<Character> = ancestry ? [" ", ":", "?", "*", "[", "\\"] : [" ", "~", "^", ":", "?", "*", "[", "\\"]
    let fits = !ref.isEmpty && !ref.hasPrefix("/") && !ref.hasSuffix("/") && !ref.hasSuffix(".") && !ref.hasSuffix(".lock")
        && !ref.contains("..") && !ref.contains("//") && !ref.contains("@{") && !ref.hasPrefix("-")
        && !ref.contains { forbidden.contains($0) || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }
    if !fits {
        Diagnostics.error("\(String(reflecting: ref)) is not a git ref name", at: location,
                          fix: "name a branch or a tag, such as \"main\" or \"refs/tags/v1.0\"")
    }
}

func checkBlock(_ disk: Device, for constructor: String, at location: SourceLocation) {
    if disk.type != .block {
        Diagnostics.error("\(constructor)(on:) needs a block device, not a \(disk.type)", at: location,
                          fix: "pass disk(\"data\", image: \"data.img\")")
    }
}

func checkFolderName(_ directory: String, at location: SourceLocation) {
    if directory.isEmpty || directory.contains("\0") || directory.contains("\n") {
        Diagnostics.error("\(String(reflecting: directory)) is not a folder name", at: location,
                          fix: "name a folder relative to config.swift, such as \"htdocs\"")
    }
}

/// A read-write store in littlefs v2 format on `disk`, power-loss safe, and
/// readable and writable by littlefs itself (`mirage-config kv ls|get|put`,
/// littlefs-python). A blank (zero-filled) disk is formatted at start;
/// anything else that is not littlefs is refused, never overwritten.
public func littlefsStore(on disk: Device, name: String = "kv", file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    checkBlock(disk, for: "littlefsStore", at: location)
    return Device(.kvWriter, name: name, implementation: .driver("kv-littlefs"), arguments: [disk], location: location)
}
