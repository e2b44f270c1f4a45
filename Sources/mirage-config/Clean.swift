import ArgumentParser
import Foundation
import MirageEngine

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
