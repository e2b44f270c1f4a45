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
