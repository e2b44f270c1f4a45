import ArgumentParser
import Foundation
import MirageEngine

struct Configure: ParsableCommand {
    /// ArgumentParser asks for this more than once: config.swift is evaluated
    /// (for --help's list of keys) once per command, never again.
    static let configuration = CommandConfiguration(
        abstract: "Resolve config.swift for a board and write the linker script, device tree, glue, manifest and qemu command.",
        discussion: "Keys are given as --NAME VALUE or --NAME=VALUE.\n\n" + keysHelp()
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Option(name: .shortAndLong, help: "The board: a name or alias from targets/ ('arm' is QEMU virt).")
    var target: String = "arm"

    @Option(help: "The cross toolchain: a file in toolchains/ (llvm, gnu).")
    var toolchain: String = "llvm"

    @Option(help: "debug: failed checks (fatalError, precondition, index, nil unwrap) print their message and file:line; release: they only trap, for the smallest image.")
    var assertConfig: AssertConfiguration = .debug

    @Option(help: "For --target host: build the program with a sanitizer (address, undefined); its reports fail boot tests.")
    var sanitize: Sanitizer?

    @Flag(help: "Compile the runtime, the drivers and the job as one module, optimised together: a smaller image, for release, at the cost of a slower build (by default the runtime and drivers are compiled once and kept in the cache, and a build after an edit compiles only the job).")
    var wholeImage = false

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var keyArguments: [String] = []

    func run() throws {
        let workspace = try unikernel.workspace()
        let started = Date()
        let keyValues: [String: String]
        do { keyValues = try KeyArguments.parse(keyArguments) } catch { fail(error) }
        do {
            let result = try workspace.configure(target: target, toolchain: toolchain, assertConfig: assertConfig, sanitizer: sanitize,
                                                 wholeImage: wholeImage, keyValues: keyValues)
            let configuration = result.configuration
            let seconds = Date().timeIntervalSince(started)
            print("Configured '\(configuration.name)' for \(configuration.board) with the \(configuration.toolchain) toolchain"
                  + String(format: " in %.2f s", seconds) + (result.evaluatedConfig ? " (config.swift evaluated)" : " (cached)"))
            for device in configuration.devices {
                let place = device.peripheral.map { " on \($0) (\(device.path ?? ""))" } ?? ""
                let built = device.arguments.isEmpty ? "" : " over \(device.arguments.joined(separator: ", "))"
                print("  \(device.type) '\(device.name)': \(device.driver)\(place)\(built)")
            }
            for key in configuration.keys {
                print("  key --\(key.name) = \(key.value) (\(key.stage == .boot ? "boot-time" : "configure-time"))")
            }
            print("Wrote \(displayPath(workspace.buildDirectory.path))/: " + result.files.map(\.lastPathComponent).joined(separator: ", "))
        } catch {
            fail(error)
        }
    }

    /// The keys config.swift in the current folder declares, for --help.
    /// Only evaluated when help is asked for, and answered from the cache
    /// when config.swift has not changed.
    static func keysHelp() -> String {
        let arguments = CommandLine.arguments
        guard arguments.contains("--help") || arguments.contains("-h") || arguments.contains("help") else { return "" }
        var folder = "."
        if let flag = arguments.firstIndex(where: { $0 == "-C" || $0 == "--directory" }), flag + 1 < arguments.count {
            folder = arguments[flag + 1]
        }
        do {
            var loader = ConfigLoader(installation: try Installation.locate(), directory: URL(fileURLWithPath: folder))
            guard FileManager.default.fileExists(atPath: loader.configFile.path) else {
                return "(No config.swift here: run in a unikernel's folder to see its keys.)"
            }
            let keys = KeyListing.keys(of: try loader.load().graph)
            guard !keys.isEmpty else { return "config.swift declares no keys." }
            var text = "KEYS declared by config.swift:\n"
            for key in keys {
                text += "  --\(key.name) <\(key.type.rawValue)>  (\(key.stage == .boot ? "boot-time" : "configure-time"), default: \(key.defaultValue))\n"
                text += "      \(key.doc)\n"
            }
            return text
        } catch {
            return "(Cannot list the keys of config.swift: \(error))"
        }
    }
}

extension AssertConfiguration: ExpressibleByArgument {}
extension Sanitizer: ExpressibleByArgument {}
