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
