import ArgumentParser
import Foundation
import MirageEngine

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say which tools are found, which are missing, and how to install them."
    )

    func run() throws {
        do {
            let report = try Checkup.run(installation: try Installation.locate())
            print(report.text, terminator: "")
            if !report.allFound { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail(error)
        }
    }
}
