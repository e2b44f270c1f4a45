import ArgumentParser
import Foundation
import MirageEngine

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List what exists: the boards, the device types and their constructors, the drivers.",
        discussion: """
        Read from the files configure uses (targets/, each driver's driver.yaml, the DSL's
        declarations), with the device packages config.swift imports when run in a unikernel's folder;
        there, once built, `list drivers` also says how many bytes each driver adds to its image.
        """
    )

    enum Topic: String, ExpressibleByArgument, CaseIterable {
        case boards, devices, drivers
    }

    @Argument(help: "boards, devices or drivers.")
    var topic: Topic

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print the README's Markdown table (boards and devices).")
    var markdown = false

    @OptionGroup var unikernel: UnikernelOptions

    func validate() throws {
        if json && markdown { throw ValidationError("choose one of --json and --markdown") }
        if markdown && topic == .drivers { throw ValidationError("--markdown lists boards or devices") }
    }

    func run() throws {
        do {
            let workspace = try unikernel.workspace(requiringConfig: false)
            let config = workspace.directory.appendingPathComponent("config.swift")
            let packages = FileManager.default.fileExists(atPath: config.path)
                ? try ConfigLoader(installation: workspace.installation, directory: workspace.directory)
                    .packageImports(in: String(contentsOf: config, encoding: .utf8))
                : []
            // In a built unikernel's folder, what each driver adds to its image.
            var image: Catalogue.BuiltImage?
            if topic == .drivers, let configuration = try? workspace.configured(),
               FileManager.default.fileExists(atPath: workspace.image(configuration.name).path) {
                image = Catalogue.BuiltImage(elf: workspace.image(configuration.name), configuration: configuration)
            }
            let catalogue = try Catalogue.read(installation: workspace.installation, packages: packages, image: image)
            if json {
                Output.write(Data((try catalogue.json(topic.rawValue)).utf8))
            } else if markdown {
                Output.write(Data((topic == .boards ? catalogue.boardsMarkdown : catalogue.devicesMarkdown).utf8))
            } else {
                switch topic {
                case .boards: Output.write(Data((catalogue.boardsText).utf8))
                case .devices: Output.write(Data((catalogue.devicesText).utf8))
                case .drivers: Output.write(Data((catalogue.driversText).utf8))
                }
            }
        } catch {
            fail(error)
        }
    }
}
