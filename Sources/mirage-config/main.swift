import ArgumentParser
import Foundation
import MirageEngine

/// mirage-config: configure, build, boot and test ARM unikernels written in
/// Embedded Swift. A thin layer over MirageEngine.
struct MirageConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirage-config",
        abstract: "Configure, build and boot ARM unikernels written in Embedded Swift.",
        discussion: """
        In a unikernel's folder (one with config.swift):
          mirage-config configure --target arm     resolve devices, write _build/
          mirage-config build                      cross-compile dist/NAME.elf and .bin
          mirage-config run                        boot it in qemu-system-arm
        """,
        version: Installation.toolVersion,
        subcommands: [Configure.self, Build.self, Run.self, Test.self, Image.self, FlashCommand.self, Describe.self, Query.self,
                      Inspect.self, List.self, KV.self, TLS.self, Clean.self, Doctor.self]
    )
}

/// Options every command that works on a unikernel takes.
struct UnikernelOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .long], help: "The unikernel's folder (holding config.swift).")
    var directory: String = "."

    /// The unikernel's folder, checked before anything is read or written
    /// there: a folder with config.swift (`requiringConfig`), or at least a folder.
    func workspace(requiringConfig: Bool = true) throws -> Workspace {
        let folder = URL(fileURLWithPath: directory)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
            throw MirageError("\(directory) does not exist", fix: "give the unikernel's folder (the one with config.swift) with -C FOLDER")
        }
        guard isFolder.boolValue else {
            throw MirageError("\(directory) is a file, not a folder", fix: "give the folder that holds config.swift with -C FOLDER")
        }
        if requiringConfig, !FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.swift").path) {
            throw MirageError("\(displayPath(folder.standardizedFileURL.path)) has no config.swift: it is not a unikernel's folder",
                              fix: "run this in a unikernel's folder, or pass it with -C FOLDER")
        }
        return Workspace(installation: try Installation.locate(), directory: folder)
    }
}

/// Prints an error a person can act on and exits with status 1: the tool's
/// own errors as they are, any other as one line (ErrorReport), never a dump.
/// `status` is 1 but for `run`, whose own status is the unikernel's.
func fail(_ error: Error, status: Int32 = 1) -> Never {
    Output.error(ErrorReport.text(for: error))
    ChildProcesses.endAll()
    Foundation.exit(status)
}

/// `run`'s status when the tool itself fails before or around the boot (as
/// `docker run` and `git bisect run` use it): distinct from any status a job
/// would choose, 0 to 124.
let toolFailureStatus: Int32 = 125

func printError(_ text: String) {
    Output.error(text)
}

// Nothing the tool starts outlives it: Ctrl-C, SIGTERM and SIGHUP end qemu,
// the compilers and the tool's temporary files first.
ChildProcesses.endWithTheTool()
// Progress lines appear as they happen, through a pipe too.
setvbuf(stdout, nil, _IOLBF, 0)
// As ParsableCommand.main(), but an error that is not the command line's own
// (ArgumentParser's) is reported by `fail`, as one line.
do {
    var command = try MirageConfigCommand.parseAsRoot()
    try command.run()
} catch let error as MirageError {
    fail(error)
} catch let error as MirageErrors {
    fail(error)
} catch let error as NSError where [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(error.domain) {
    fail(error)
} catch let error as DecodingError {
    fail(error)
} catch {
    MirageConfigCommand.exit(withError: error)
}
