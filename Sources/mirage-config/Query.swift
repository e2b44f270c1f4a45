import ArgumentParser
import Foundation
import MirageEngine

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer questions about the configured unikernel: board, keys, files, qemu, devices."
    )

    enum Topic: String, ExpressibleByArgument, CaseIterable {
        case board, keys, files, qemu, devices
    }

    @OptionGroup var unikernel: UnikernelOptions

    @Argument(help: "What to print: \(Topic.allCases.map(\.rawValue).joined(separator: ", ")).")
    var topic: Topic

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        do {
            let workspace = try unikernel.workspace()
            print(try QueryAnswer.answer(topic.rawValue, workspace: workspace, json: json))
        } catch {
            fail(error)
        }
    }
}
