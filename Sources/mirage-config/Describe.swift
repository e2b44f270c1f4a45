import ArgumentParser
import Foundation
import MirageEngine

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the resolved device graph, as text or as Graphviz (--dot)."
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Flag(help: "Print Graphviz dot instead of text.")
    var dot = false

    func run() throws {
        do {
            let configuration = try unikernel.workspace().configured()
            print(dot ? GraphDescription.dot(configuration) : GraphDescription.text(configuration), terminator: "")
        } catch {
            fail(error)
        }
    }
}
