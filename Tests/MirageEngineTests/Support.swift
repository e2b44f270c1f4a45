import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// Shared helpers: the installation, boards and ad-hoc graphs.
enum Fixtures {
    static let installation: Installation = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !Installation.looksLikeRoot(folder) { folder = folder.deletingLastPathComponent() }
        return Installation(root: folder)
    }()

    static func board(_ name: String) throws -> Board { try Board.load(name, from: installation) }

    /// Every driver the tool ships.
    static let drivers: DriverCatalog = try! DriverCatalog(installation: installation)

    /// Every board in targets/: tests iterate over these, never over names.
    static let boards: [Board] = try! Board.all(in: installation)

    static let here = SourceLocation(file: "config.swift", line: 12)

    /// A graph built with the DSL, read back through its JSON as `configure` reads config.swift's.
    static func graph(_ devices: [Device], keys: [KeyDeclaration] = [], name: String = "hello") -> ConfigModel.Graph {
        let graph = ConfigurationGraph(name: name, job: "Hello", jobLocation: SourceLocation(file: "config.swift", line: 10),
                                       devices: devices, signature: devices.map(\.type), keys: keys, applicationLocation: here,
                                       registerLocation: here)
        return try! ConfigModel.Graph.decode(try! JSONEncoder().encode(graph))
    }

    /// `graph` resolved for `target` with the tool's drivers.
    static func resolve(_ graph: ConfigModel.Graph, on target: String, keys: [String: String] = [:]) throws -> ResolvedConfiguration {
        try Resolver(graph: graph, board: try board(target), drivers: drivers, target: target, keyValues: keys).resolve()
    }

    static func key(_ name: String, _ type: KeyType, _ value: String, stage: KeyStage = .boot, line: Int = 3) -> KeyDeclaration {
        KeyDeclaration(name: name, doc: "doc of \(name)", type: type, stage: stage, defaultValue: value,
                       location: SourceLocation(file: "config.swift", line: line))
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mirage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs a host program, returning (status, stdout, stderr).
    static func run(_ command: String, _ arguments: [String]) throws -> Shell.Result {
        guard let tool = findInPath(command) else {
            XCTFail("\(command) is not installed (scripts/setup installs it)")
            return Shell.Result(status: 127, outputData: Data(), error: "")
        }
        return try Shell.run(tool, arguments)
    }
}

extension XCTestCase {
    /// Tests that cross-compile images or boot qemu run from scripts/test
    /// (MIRAGE_SYSTEM_TESTS=1), so that a plain `swift test` stays quick and host-only.
    func requireSystemTests() throws {
        guard ProcessInfo.processInfo.environment["MIRAGE_SYSTEM_TESTS"] == "1" else {
            throw XCTSkip("builds ARM images or boots qemu: run scripts/test, or set MIRAGE_SYSTEM_TESTS=1")
        }
    }

    /// The error `body` throws, as text.
    func errorText(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }
}

/// The built `mirage-config`, run as a person runs it, for tests of the
/// command line and of signals.
final class ToolRun: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var collected = Data()
    /// The output pipe reached its end (every writer closed it).
    private var ended = false

    static var executable: URL { Fixtures.installation.root.appendingPathComponent(".build/debug/mirage-config") }

    /// Starts the tool with `arguments` in `directory`, with `environment`
    /// added to the test's own and `input` on its standard input.
    init(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:], input: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: ToolRun.executable.path) else {
            throw MirageError("\(ToolRun.executable.path) is not built", fix: "swift build")
        }
        process.executableURL = ToolRun.executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        // A thread of its own reads to the pipe's end: a blocking read returns
        // nothing only once every writer has closed it, so nothing is lost
        // however late a loaded machine schedules the reader.
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                lock.lock()
                if chunk.isEmpty { ended = true } else { collected.append(chunk) }
                lock.unlock()
                if chunk.isEmpty { return }
            }
        }.start()
    }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits until the output contains `text`, at most `seconds`.
    func waitFor(_ text: String, seconds: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            usleep(50_000)
        }
        return false
    }

    /// Waits for the tool to end, at most `seconds`; its status, or nil.
    func finish(seconds: Double = 60) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate(); return nil }
        // The last output: until the pipe's end, which a loaded machine may
        // deliver well after the exit (10 s at most, in case a child the
        // tool started still holds the pipe).
        let drained = Date().addingTimeInterval(10)
        while Date() < drained {
            lock.lock(); let done = ended; lock.unlock()
            if done { break }
            usleep(20_000)
        }
        return process.terminationStatus
    }

    /// Runs to the end and gives (status, output).
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> (Int32?, String) {
        let run = try ToolRun(arguments, in: directory)
        let status = run.finish(seconds: 300)
        return (status, run.output)
    }
}

/// Processes whose command line contains `text` (from /proc).
/// The processes whose command line names `text` or that run in a folder whose path holds it
/// (build.ninja names the job's files relative to _build, so a compiler's arguments may not).
func processes(containing text: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid -> String? in
        guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        let folder = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
        return line.contains(text) || folder.contains(text) ? "\(pid): \(line)" : nil
    }
}

extension Fixtures {
    /// A copy of an example (its Swift sources, config and boot tests) in a fresh folder.
    static func copy(example: String, into parent: URL? = nil, named name: String? = nil) throws -> URL {
        let source = installation.root.appendingPathComponent(example)
        let folder = try (parent ?? temporaryFolder()).appendingPathComponent(name ?? source.lastPathComponent)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path)
        where file.hasSuffix(".swift") || file.hasSuffix(".yaml") {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        return folder
    }
}
