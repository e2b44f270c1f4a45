import ArgumentParser
import Foundation
import MirageEngine

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cross-compile the configured unikernel into dist/NAME.elf and dist/NAME.bin."
    )

    @OptionGroup var unikernel: UnikernelOptions

    func run() throws {
        do {
            var builder = Builder(workspace: try unikernel.workspace())
            builder.log = { print("  " + $0) }
            let started = Date()
            let result = try builder.build()
            print(String(format: "Built in %.2f s for %@\n", Date().timeIntervalSince(started), result.board.name))
            print(Builder.sizeReport(result), terminator: "")
        } catch {
            fail(error)
        }
    }
}

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

struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot tests: build and boot on each board of boot-test.yaml, match console lines, check the exit status.",
        discussion: "boot-test.yaml beside config.swift declares the boards, and for each test the expected console lines (in order), boot-time keys and exit status. A fault marker, a timeout or a wrong status fails the test."
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Option(name: .shortAndLong, help: "Boot only on this board (repeatable); default: the boards in boot-test.yaml.")
    var target: [String] = []

    @Option(help: "The cross toolchain: a file in toolchains/.")
    var toolchain: String = "llvm"

    @Option(help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Flag(help: "Stream each boot's console.")
    var verbose = false

    func run() throws {
        do {
            let workspace = try unikernel.workspace()
            let suite = try BootTestSuite(installation: workspace.installation, directory: workspace.directory)
            let verbose = self.verbose
            let results = try suite.run(boards: target, toolchain: toolchain,
                                        log: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
                                        echo: { if verbose { FileHandle.standardOutput.write(Data($0.utf8)) } })
            if let junit {
                try JUnitReport.xml(suite: workspace.directory.lastPathComponent, results: results)
                    .write(toFile: junit, atomically: true, encoding: .utf8)
            }
            let failed = results.filter { !$0.passed }.count
            FileHandle.standardOutput.write(Data("\(results.count - failed) passed, \(failed) failed\n".utf8))
            if failed > 0 || results.isEmpty { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail(error)
        }
    }
}

struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove _build/ and dist/.")

    @OptionGroup var unikernel: UnikernelOptions

    func run() throws {
        do {
            let removed = try unikernel.workspace().clean()
            print(removed.isEmpty ? "Nothing to clean." : "Removed " + removed.map { displayPath($0.path) }.joined(separator: ", "))
        } catch {
            fail(error)
        }
    }
}
