import ArgumentParser
import Foundation
import MirageEngine

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the built image in qemu-system-arm, stream its console and exit with its status.",
        discussion: """
        Boot-time keys after --, e.g. `mirage-config run -- --message=xyz`, override the configured ones without a rebuild.
        Exit status: the unikernel's own; 124 when --timeout stopped it; 125 when mirage-config itself failed (an error line says why).
        """
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Option(help: "Seconds before qemu is stopped (status 124).")
    var timeout: Double = 600

    @Flag(help: "Print the qemu command line and do not boot.")
    var dryRun = false

    @Option(help: "direct: qemu loads the ELF and device tree; u-boot: the board's U-Boot fetches the uImage over TFTP and boots it (virt); sd-card: from an SD card image, through SPL and U-Boot (orangepi-pc).")
    var bootLoader: Runner.BootLoader = .direct

    @Option(name: .customLong("disk"), help: ArgumentHelp("Attach FILE to the block device NAME, instead of config.swift's image.", valueName: "NAME=FILE"))
    var disks: [String] = []

    @Option(name: .customLong("fail-writes-after"), help: ArgumentHelp("Make the disk NAME fail every write after its N-th (QEMU's blkdebug): a disk that stops, for crash tests.", valueName: "NAME=N"))
    var failingWrites: [String] = []

    @Option(name: .customLong("log-writes"), help: ArgumentHelp("Record every write and flush to the disk NAME in LOG (QEMU's blklogwrites, dm-log-writes format), to replay as crash images.", valueName: "NAME=LOG"))
    var loggingWrites: [String] = []

    @Option(name: .customLong("net"), help: ArgumentHelp("What the network interface connects to: user (QEMU's user network, the default) or dgram:PATH (one datagram per frame on the Unix socket PATH; qemu listens on PATH.qemu) or tap:NAME (a host TAP interface that exists already).", valueName: "NETWORK"))
    var network: String?

    @Option(name: .customLong("forward"), help: ArgumentHelp("Forward 127.0.0.1:HOSTPORT on the host to the unikernel's GUESTPORT, over QEMU's user network (repeatable).", valueName: "tcp|udp:HOSTPORT:GUESTPORT"))
    var forwards: [String] = []

    @Flag(help: "Report the boot time: qemu's start to the first output (host clock), and reset to the job (the guest's cycle counter).")
    var timings = false

    @Flag(help: "Sample the unikernel's call stack at a fixed rate (QEMU's gdbstub); print the functions the samples fell in and write _build/profile/folded.txt (flamegraph.pl, speedscope).")
    var profile = false

    @Flag(help: "For the host target: start the program under lldb (or gdb), with these boot arguments.")
    var debug = false

    @Option(help: "Samples per second with --profile.")
    var profileRate = 1000

    @Argument(parsing: .postTerminator, help: "Boot-time keys, as --NAME=VALUE.")
    var bootArguments: [String] = []

    func validate() throws {
        guard (1...10_000).contains(profileRate) else {
            throw ValidationError("--profile-rate must be 1 to 10000 samples per second, not \(profileRate)")
        }
        guard timeout.isFinite, timeout > 0 else {
            throw ValidationError("--timeout must be a number of seconds greater than 0, not \(timeout)")
        }
    }

    func run() throws {
        do {
            let workspace = try unikernel.workspace()
            let runner = Runner(workspace: workspace)
            var request = Runner.BootRequest(bootArguments: bootArguments, timings: timings, bootLoader: bootLoader, disks: disks,
                                             failingWrites: failingWrites, loggingWrites: loggingWrites, network: network, forwards: forwards)
            if profile { request.profileRate = profileRate }
            if dryRun {
                print(try runner.commandLine(request, for: .dryRun))
                return
            }
            if debug {
                // The debugger takes the terminal: the tool becomes it, so Ctrl-C reaches it alone.
                let command = try runner.debuggerCommand(request)
                let words = command.map { strdup($0) } + [nil]
                execv(command[0], words)
                throw MirageError("cannot start \(command[0]): \(String(cString: strerror(errno)))")
            }
            if FileManager.default.fileExists(atPath: workspace.image(try workspace.configured().name).path),
               let failure = Builder(workspace: workspace).lastFailure() {
                printError("mirage-config: warning: the last build failed (\(failure)); booting the last good image")
            }
            let outcome = try runner.run(request, timeout: timeout, say: { printError("mirage-config: \($0)") }) { bytes in
                Output.write(bytes)
            }
            if timings {
                let first = outcome.secondsToFirstOutput.map { String(format: "%.1f ms", $0 * 1000) } ?? "no output"
                let isProcess = (try? workspace.configured().boardDescription.isProcess) ?? false
                let cycles = Runner.cyclesToJob(in: outcome.console)
                if isProcess {
                    // The host program counts nanoseconds from its main() (Sources/Boot/StartHost).
                    let job = cycles.map { String(format: "%.3f ms", Double($0) / 1_000_000) } ?? "not counted"
                    printError("timings: program start to first output \(first); main() to the job \(job)")
                } else {
                    let job = cycles.map { "\($0) cycles (\(String(format: "%.1f", Double($0) / 1000)) us at QEMU's 1 GHz cycle counter)" } ?? "not counted (this CPU's cycle counter does not run under QEMU)"
                    printError("timings: qemu start to first output \(first); reset to the job \(job)")
                }
            }
            if let report = outcome.profileReport { printError(String(report.dropLast())) }
            if outcome.timedOut { printError("mirage-config: stopped qemu after \(Int(timeout)) s (--timeout)") }
            throw ExitCode(outcome.status)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail(error, status: toolFailureStatus)
        }
    }
}

extension Runner.BootLoader: ExpressibleByArgument {}
