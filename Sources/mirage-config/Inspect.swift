import ArgumentParser
import Foundation
import MirageEngine

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the manifest an image carries (read back from its ELF note with libelf)."
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Argument(help: "An image; default: the configured unikernel's dist/NAME.elf.")
    var image: String?

    func run() throws {
        do {
            let file: URL
            if let image {
                file = URL(fileURLWithPath: image)
            } else {
                let workspace = try unikernel.workspace()
                file = workspace.image(try workspace.configured().name)
            }
            guard let manifest = try ManifestNote.read(from: file) else {
                throw MirageError("\(displayPath(file.path)) carries no mirage-config manifest", fix: "build it with mirage-config build")
            }
            print(String(decoding: manifest, as: UTF8.self), terminator: "")
        } catch {
            fail(error)
        }
    }
}
