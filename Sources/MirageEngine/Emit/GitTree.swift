import Foundation

/// The files of one commit of a git repository, which `crunch(git:ref:)`
/// embeds: not the working tree (uncommitted edits are not in the image),
/// so an image is a function of the commit. A local path is read where it
/// is; a URL is cloned into the tool's cache by `configure` (and fetched
/// again by each configure), and `build` exports what configure fetched.
struct GitTree {
    /// The repository as config.swift names it: a path relative to it, or a URL.
    let repository: String
    let ref: String

    /// A URL git fetches from (`https://`, `git://`, `ssh://`, `file://`), not a path.
    var isRemote: Bool { repository.contains("://") }

    /// The repository to read: the path, or a URL's clone in the tool's cache.
    func local(base: URL, cache: URL) -> URL {
        guard isRemote else { return resolvePath(repository, in: base) }
        var hash = ContentHash()
        hash.add(repository)
        return cache.appendingPathComponent("git").appendingPathComponent(hash.hex.prefix(24) + ".git")
    }

    /// Clones or fetches a URL into the cache (configure); for a path, checks it is a repository.
    func update(base: URL, cache: URL) throws {
        let local = self.local(base: base, cache: cache)
        guard isRemote else {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: local.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw MirageError("the git repository '\(repository)' does not exist (\(displayPath(local.path)))",
                                  fix: "name a repository's folder relative to config.swift, or a URL")
            }
            do { _ = try GitTree.git(["rev-parse", "--git-dir"], in: local) } catch {
                throw MirageError("'\(repository)' is not a git repository (\(displayPath(local.path)))", fix: "run git init there, or name another folder")
            }
            return
        }
        if FileManager.default.fileExists(atPath: local.path) {
            _ = try GitTree.git(["fetch", "--quiet", "--prune", "--force", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], in: local)
        } else {
            try FileManager.default.createFolder(local.deletingLastPathComponent())
            // Cloned beside and renamed: an interrupted clone is not taken for a whole one.
            let staging = local.appendingPathExtension("new")
            try? FileManager.default.removeItem(at: staging)
            _ = try GitTree.git(["clone", "--quiet", "--bare", "--", repository, staging.path], in: nil)
            try FileManager.default.moveItem(at: staging, to: local)
        }
    }

    /// The commit `ref` names in the repository (a commit's name in hex).
    func commit(base: URL, cache: URL) throws -> String {
        let local = self.local(base: base, cache: cache)
        guard let line = try? GitTree.git(["rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"], in: local)
            .split(separator: "\n").last, line.count == 40 else {
            throw MirageError("'\(ref)' names no commit in the git repository '\(repository)'", fix: "name a branch, a tag or a commit of it (git log shows them)")
        }
        return String(line)
    }

    /// Writes the files of `commit` into `folder` (emptied first), through git archive and tar.
    func export(_ commit: String, base: URL, cache: URL, into folder: URL) throws {
        let local = self.local(base: base, cache: cache)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createFolder(folder)
        let archive = folder.appendingPathExtension("tar")
        defer { try? FileManager.default.removeItem(at: archive) }
        _ = try GitTree.git(["archive", "-o", archive.path, commit], in: local)   // a tar, by the name's extension
        guard let tar = findInPath("tar") else { throw MirageError("GNU tar is not installed", fix: "run scripts/setup") }
        let result = try Shell.run(tar, ["-x", "-f", archive.path, "-C", folder.path], timeout: 600)
        guard result.status == 0 else { throw MirageError("tar could not unpack git archive's output: \(result.error)") }
    }

    /// Runs git with no configuration of the user's that could change what it reads; its output.
    static func git(_ arguments: [String], in directory: URL?) throws -> String {
        guard let git = findInPath("git") else { throw MirageError("git is not installed", fix: "run scripts/setup (apt-get install git)") }
        let result = try Shell.run(git, (directory.map { ["-C", $0.path] } ?? []) + arguments,
                                   environment: ["GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"], timeout: 600)
        guard result.status == 0 else {
            throw MirageError("git \(arguments.first ?? ""): " + (result.error.split(separator: "\n").last.map(String.init) ?? "exited with \(result.status)"))
        }
        return result.output
    }
}
