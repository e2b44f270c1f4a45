import ArgumentParser
import Foundation
import MirageEngine

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the built image in qemu-system-arm, stream its console and exit with its status.",
        discussion: "Boot-time keys after --, e.g. `mirage-config run -- --message=xyz`, override the configured ones without a rebuild."
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Option(help: "Seconds before qemu is stopped (status 124).")
    var timeout: Double = 600

    @Flag(help: "Print the qemu command line and do not boot.")
    var dryRun = false

    @Argument(parsing: .postTerminator, help: "Boot-time keys, as --NAME=VALUE.")
    var bootArguments: [String] = []

    func validate() throws {
        guard timeout.isFinite, timeout > 0 else {
            throw ValidationError("--timeout must be a number of seconds greater than 0, not \(timeout)")
        }
    }

    func run() throws {
        do {
            let workspace = try unikernel.workspace()
            let runner = Runner(workspace: workspace)
            if dryRun {
                print(try runner.command(bootArguments: bootArguments, for: .dryRun).1.shellLine)
                return
            }
            if let failure = Builder(workspace: workspace).lastFailure() {
                printError("mirage-config: warning: the last build failed (\(failure)); booting the last good image")
            }
            let outcome = try runner.run(bootArguments: bootArguments, timeout: timeout) { bytes in
                FileHandle.standardOutput.write(bytes)
            }
            if outcome.timedOut { printError("mirage-config: stopped qemu after \(Int(timeout)) s (--timeout)") }
            throw ExitCode(outcome.status)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail(error)
        }
    }
}
