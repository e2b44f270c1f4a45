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

    func run() throws {
        do {
            let runner = Runner(workspace: try unikernel.workspace())
            if dryRun {
                print(try runner.command(bootArguments: bootArguments).1.shellLine)
                return
            }
            let outcome = try runner.run(bootArguments: bootArguments, timeout: timeout) { text in
                FileHandle.standardOutput.write(Data(text.utf8))
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
