import Foundation

/// A store driver's host tool (`host-tool:` in its driver.yaml): the program
/// that reads, writes and packs its disk images on the host (GNU tar for
/// kv-tar, littlefs-python for kv-littlefs). `kv` and the build's embedded
/// stores go through it, so the engine knows no store format.
extension Driver {
    /// Runs the host tool with `arguments`; its last line of standard error when it fails.
    func runHostTool(_ arguments: [String], installation: Installation) throws -> Shell.Result {
        guard let command = hostTool?.command, let program = command.first else {
            throw MirageError("the driver \(name) names no host tool", fix: "a store's driver.yaml gives host-tool: {recognise: ..., command: [...]}")
        }
        let venv = installation.root.appendingPathComponent(".build/python/bin/python3")
        let python = FileManager.default.isExecutableFile(atPath: venv.path) ? venv.path : findInPath("python3")?.path
        func fill(_ word: String) throws -> String {
            if word.contains("{python}"), python == nil { throw MirageError("python3 is not installed", fix: "run scripts/setup") }
            return word.replacingOccurrences(of: "{python}", with: python ?? "")
                .replacingOccurrences(of: "{folder}", with: folder.path)
                .replacingOccurrences(of: "{tools}", with: installation.root.appendingPathComponent("tools").path)
        }
        let executable = try fill(program)
        guard let found = executable.contains("/") ? URL(fileURLWithPath: executable) : findInPath(executable) else {
            throw MirageError("\(executable) is not installed", fix: "run scripts/setup")
        }
        let result = try Shell.run(found, try command.dropFirst().map(fill) + arguments, timeout: 300)
        guard result.status == 0 else {
            throw MirageError(result.error.split(separator: "\n").last.map(String.init) ?? "\(name)'s host tool exited with \(result.status)")
        }
        return result
    }

    /// Packs `directory` into a new disk image of this store at `image`
    /// (`host-tool pack FOLDER IMAGE`). A link is packed as the file it
    /// names; one that leads out of the folder, to nothing, or to a folder
    /// is refused first, naming it: the image must not carry a host file
    /// (/etc/passwd) the folder only pointed at.
    public func pack(_ directory: URL, into image: URL, installation: Installation) throws {
        try checkLinks(in: directory)
        _ = try runHostTool(["pack", directory.path, image.path], installation: installation)
        guard FileManager.default.fileExists(atPath: image.path) else {
            throw MirageError("\(name)'s host tool wrote no image packing \(displayPath(directory.path))")
        }
    }
}

extension Driver {
    /// Packs the files of `ref`'s commit in the git repository `repository`
    /// into a new disk image of this store at `image` (`host-tool pack-git REPO REF IMAGE`).
    public func packGit(_ repository: URL, ref: String, into image: URL, installation: Installation) throws {
        _ = try runHostTool(["pack-git", repository.path, ref, image.path], installation: installation)
        guard FileManager.default.fileExists(atPath: image.path) else {
            throw MirageError("\(name)'s host tool wrote no image packing \(displayPath(repository.path))")
        }
    }
}

/// Refuses symbolic links that leave `directory` (once resolved), lead
/// nowhere or lead to a folder, and anything that is not a file, a
/// folder or such a link (a FIFO, a device).
func checkLinks(in directory: URL) throws {
    let root = directory.resolvingSymlinksInPath().path
    let files = FileManager.default
    guard let walk = files.enumerator(atPath: directory.path) else {
        throw MirageError("cannot read the folder \(displayPath(directory.path))", fix: "check that it exists and may be read")
    }
    while let relative = walk.nextObject() as? String {
        let path = directory.appendingPathComponent(relative).path
        var info = stat()
        guard lstat(path, &info) == 0 else { continue }
        switch info.st_mode & S_IFMT {
        case S_IFREG, S_IFDIR: continue
        case S_IFLNK:
            let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            var isFolder: ObjCBool = false
            guard files.fileExists(atPath: target, isDirectory: &isFolder) else {
                throw MirageError("\(displayPath(path)) is a link to nothing", fix: "remove the link, or make what it names")
            }
            guard target.hasPrefix(root + "/") else {
                throw MirageError("\(displayPath(path)) is a link to \(target), outside \(displayPath(directory.path)): packing it would put that file in the image",
                                  fix: "copy the file into the folder, or remove the link")
            }
            if isFolder.boolValue {
                throw MirageError("\(displayPath(path)) is a link to a folder", fix: "move or copy the folder there instead of linking it")
            }
        default:
            throw MirageError("\(displayPath(path)) is neither a file nor a folder", fix: "remove it from the folder to pack")
        }
    }
}
