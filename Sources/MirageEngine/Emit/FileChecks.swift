import Foundation

/// Runs the configuration's (or, for `kv pack`, every) library's file check
/// (`Driver.FileCheck`) on a folder or a commit's files before they are
/// embedded or packed.
public enum FileChecks {
    /// Runs the check of each of `drivers` that has one on the files of
    /// `directory` it reads (at any depth, in name order); throws a message
    /// with each refusal as "LABEL/PATH:LINE: reason".
    /// `label`: how to show the folder (its path, or a repository and ref).
    public static func run(in directory: URL, shownAs label: String, drivers: [Driver], installation: Installation) throws {
        let files = (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []).sorted()
        for driver in drivers {
            guard let check = driver.fileCheck else { continue }
            let read = files.filter { check.reads(URL(fileURLWithPath: $0).lastPathComponent) }
                .filter { FileManager.default.isReadableFile(atPath: directory.appendingPathComponent($0).path) }
            if read.isEmpty { continue }
            let program = installation.executable.deletingLastPathComponent().appendingPathComponent(check.program)
            guard FileManager.default.isExecutableFile(atPath: program.path) else {
                throw MirageError("\(check.program), the \(driver.name) library's check of \(check.what)s, is not built (\(displayPath(program.path)))",
                                  fix: "run scripts/setup, or swift build in \(displayPath(installation.root.path)): it builds the tool and its checks")
            }
            let result = try Shell.run(program, read, in: directory, timeout: 120)
            guard result.status != 0 else { continue }
            let refusals = result.output.split(separator: "\n").map { "  \(label)/\($0)" }
            throw MirageError("the \(driver.name) library refuses \(refusals.count == 1 ? "a \(check.what)" : "\(refusals.count) \(check.what)s") in \(label):\n"
                              + (refusals.isEmpty ? ["  \(check.program) exited with \(result.status): \(result.error)"] : refusals).joined(separator: "\n"),
                              fix: "correct the file: the unikernel would refuse it the same way at boot")
        }
    }

    /// The same for the files of `ref`'s commit in `repository` (exported
    /// into a temporary folder first): what `kv pack --git` packs.
    public static func run(commit ref: String, of repository: URL, drivers: [Driver], installation: Installation) throws {
        guard drivers.contains(where: { $0.fileCheck != nil }) else { return }
        let tree = GitTree(repository: repository.path, ref: ref)
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let commit = try tree.commit(base: here, cache: ToolCache.folder)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mirage-config-check-\(getpid())")
        // Gone when the check ends, and when a signal ends the tool during it.
        ChildProcesses.temporary(folder)
        defer { ChildProcesses.removeTemporary(folder) }
        try tree.export(commit, base: here, cache: ToolCache.folder, into: folder)
        try run(in: folder, shownAs: "\(displayPath(repository.path))@\(ref)", drivers: drivers, installation: installation)
    }
}
