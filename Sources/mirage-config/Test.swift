import ArgumentParser
import Foundation
import MirageEngine

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

    @Option(help: "For the host target: build with a sanitizer (address, undefined); its reports fail the tests.")
    var sanitize: Sanitizer?

    @Option(help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Flag(help: "Stream each boot's console.")
    var verbose = false

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Configure-time keys, as for configure: --NAME VALUE.", valueName: "keys"))
    var keyArguments: [String] = []

    func run() throws {
        do {
            let workspace = try unikernel.workspace()
            // Before the tests, not after them: a report that cannot be written must not cost the run.
            if let junit { try requireWritableFile(URL(fileURLWithPath: junit), "the JUnit report") }
            let suite = try BootTestSuite(installation: workspace.installation, directory: workspace.directory)
            let verbose = self.verbose
            let keyValues = try KeyArguments.parse(keyArguments.filter { $0 != "--" })
            let results = try suite.run(boards: target, toolchain: toolchain, sanitizer: sanitize, keyValues: keyValues,
                                        log: { Output.line($0) },
                                        echo: { if verbose { Output.write($0) } })
            if let junit {
                try JUnitReport.xml(suite: workspace.directory.lastPathComponent, results: results)
                    .write(toFile: junit, atomically: true, encoding: .utf8)
            }
            let failed = results.filter { !$0.passed }.count
            Output.line("\(results.count - failed) passed, \(failed) failed")
            if failed > 0 || results.isEmpty { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail(error)
        }
    }
}
