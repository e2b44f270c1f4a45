import ArgumentParser
import Foundation
import MirageEngine

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say which tools are found, which are missing, and how to install them; and how the unikernel folder is configured."
    )

    @OptionGroup var unikernel: UnikernelOptions

    func run() throws {
        do {
            let workspace = try unikernel.workspace(requiringConfig: false)
            let report = try Checkup.run(installation: workspace.installation)
            print(report.text, terminator: "")
            if FileManager.default.fileExists(atPath: workspace.directory.appendingPathComponent("config.swift").path) {
                if let configuration = try? workspace.configured() {
                    print("unikernel \(configuration.name): configured for \(configuration.board) with the \(configuration.toolchain) toolchain")
                } else {
                    print("unikernel in \(displayPath(workspace.directory.path)): not configured (mirage-config configure --target arm)")
                }
            }
            if !report.allFound { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail(error)
        }
    }
}
