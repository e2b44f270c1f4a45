import Foundation

/// The runtime and every driver of a board (`runtimeDrivers`), compiled
/// once as their own Swift module (`MirageRuntime`) and kept in the tool's
/// cache for every unikernel of that board built with the same flags. The
/// job and the glue are then a small module of their own: after an edit of
/// the job, or for another unikernel of the board, a build compiles two
/// files (hello on virt: 3.6 s; a TCP echo server: 26 s, against 73 s for
/// the board's module, once), and ld.lld's link-time optimisation still
/// joins the two, keeping only what the job uses. `configure --whole-image`
/// compiles the chosen drivers and the job as one module instead, for the
/// smallest release image.
///
/// The runtime's API is internal (it was written as one module with the
/// job), so the module is compiled with `-enable-testing` and the job
/// imports it with `@testable` semantics, implicitly: a job's source needs
/// no `import` and sees the same names as in a whole-image build.
struct RuntimeModule {
    static let name = "MirageRuntime"

    /// The folder with `MirageRuntime.swiftmodule` and `MirageRuntime.o`.
    let folder: URL

    var module: URL { folder.appendingPathComponent("\(RuntimeModule.name).swiftmodule") }
    var object: URL { folder.appendingPathComponent("\(RuntimeModule.name).o") }

    /// The flags with which the job's module imports it.
    var importFlags: [String] {
        ["-I", folder.path, "-Xfrontend", "-testable-import-module", "-Xfrontend", RuntimeModule.name]
    }

    /// How many compiled runtimes the cache keeps; the least recently used go first.
    static let kept = 24

    /// How long a build waits for another that compiles the same module
    /// before it compiles the module itself.
    static let waitForOtherBuild: TimeInterval = 30 * 60

    /// The module for `sources` compiled with `flags` by `swiftc`: from the
    /// cache, or compiled into it now (`compiling` is told first). Two builds
    /// at once that need the same module compile it once: the second waits
    /// for the first (its lock ends with its process, so a build that is
    /// killed frees it), up to `waitForOtherBuild`.
    static func prepare(swiftc: URL, flags: [String], sources: [URL], cache: URL,
                        compiling: () -> Void) throws -> RuntimeModule {
        let key = try cacheKey(swiftc: swiftc, flags: flags, sources: sources)
        let runtimes = cache.appendingPathComponent("runtime")
        let folder = runtimes.appendingPathComponent(key)
        let found = RuntimeModule(folder: folder)
        func cached() -> Bool {
            guard FileManager.default.fileExists(atPath: found.object.path) else { return false }
            // Its date says when it was last used, for the pruning below.
            try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: folder.path)
            return true
        }
        if cached() { return found }
        do { try FileManager.default.createFolder(runtimes) } catch {
            throw MirageError("cannot write the runtime cache folder \(runtimes.path)",
                              fix: "make it writable, or choose another with XDG_CACHE_HOME=/some/writable/folder")
        }
        let lock = open(runtimes.appendingPathComponent("\(key).lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        defer { if lock >= 0 { close(lock) } }
        if lock >= 0 {
            let giveUp = Date().addingTimeInterval(waitForOtherBuild)
            while flock(lock, LOCK_EX | LOCK_NB) != 0, Date() < giveUp { usleep(200_000) }
        }
        if cached() { return found }
        compiling()
        let staging = runtimes.appendingPathComponent("\(key).\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        do { try FileManager.default.createFolder(staging) } catch {
            throw MirageError("cannot write the runtime cache folder \(runtimes.path)",
                              fix: "make it writable, or choose another with XDG_CACHE_HOME=/some/writable/folder")
        }
        ChildProcesses.temporary(staging)
        defer { ChildProcesses.removeTemporary(staging) }
        let staged = RuntimeModule(folder: staging)
        let result = try Shell.run(swiftc, flags + [
            "-module-name", name, "-enable-testing",
            "-emit-module", "-emit-module-path", staged.module.path,
            "-c", "-o", staged.object.path,
        ] + sources.map(\.path))
        guard result.status == 0 else {
            throw MirageError("building the runtime and drivers failed; the last good image is untouched:\n"
                              + (result.error + result.output).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // Another build may have put the same module in place first: theirs is as good.
        if rename(staging.path, folder.path) != 0, !FileManager.default.fileExists(atPath: found.object.path) {
            throw MirageError("cannot move the runtime module into \(folder.path): \(String(cString: strerror(errno)))")
        }
        prune(runtimes, keeping: folder)
        return found
    }

    /// The compiler (by its file's path, size and date), the flags, and
    /// each source's path and bytes.
    static func cacheKey(swiftc: URL, flags: [String], sources: [URL]) throws -> String {
        var hash = ContentHash()
        let compiler = swiftc.resolvingSymlinksInPath()
        let attributes = try? FileManager.default.attributesOfItem(atPath: compiler.path)
        hash.add(compiler.path)
        hash.add("\((attributes?[.size] as? Int) ?? 0) \((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
        for flag in flags { hash.add(flag) }
        for source in sources {
            hash.add(source.standardizedFileURL.path)
            hash.add(try Data(contentsOf: source))
        }
        return hash.hex
    }

    /// Removes the least recently used runtimes beyond `kept` (never `current`).
    static func prune(_ runtimes: URL, keeping current: URL) {
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(at: runtimes, includingPropertiesForKeys: [.contentModificationDateKey]) else { return }
        let complete = entries.filter { !$0.lastPathComponent.contains(".") }
        guard complete.count > kept else { return }
        func used(_ url: URL) -> Date { (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast }
        let oldestFirst = complete.sorted { (used($0), $0.lastPathComponent) < (used($1), $1.lastPathComponent) }
        for entry in oldestFirst.prefix(complete.count - kept) where entry.lastPathComponent != current.lastPathComponent {
            try? manager.removeItem(at: entry)
            try? manager.removeItem(at: runtimes.appendingPathComponent("\(entry.lastPathComponent).lock"))
        }
    }
}
