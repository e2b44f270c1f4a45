import Foundation

/// `mirage-config test`: for each board, configure into a folder of its own,
/// build, boot every case of boot-test.yaml and judge it.
public struct BootTestSuite {
    public let installation: Installation
    public let directory: URL
    public let spec: BootTestSpec
    public let defaults: HarnessDefaults

    public init(installation: Installation, directory: URL) throws {
        self.installation = installation
        self.directory = directory
        spec = try BootTestSpec.load(from: directory)
        defaults = try HarnessDefaults.load(from: installation)
    }

    /// The workspace a board's test builds in, apart from the person's own _build/ and dist/.
    public func workspace(for board: String, toolchain: String) -> Workspace {
        let folder = directory.appendingPathComponent("_build/test/\(board)-\(toolchain)")
        return Workspace(installation: installation, directory: directory,
                         buildDirectory: folder, distDirectory: folder.appendingPathComponent("dist"))
    }

    public func run(boards requested: [String], toolchain: String, log: @escaping (String) -> Void,
                    echo: @escaping (Data) -> Void) throws -> [BootTestResult] {
        let boards = try requested.isEmpty ? spec.boards ?? Board.all(in: installation).map(\.name) : requested
        let timeout = spec.timeout ?? defaults.timeout
        var results: [BootTestResult] = []
        for target in boards {
            let workspace = workspace(for: target, toolchain: toolchain)
            let boardName: String
            do {
                let configured = try workspace.configure(target: target, toolchain: toolchain)
                boardName = configured.configuration.board
                log("[\(boardName)] configured; building with \(toolchain)")
                _ = try Builder(workspace: workspace).build()
            } catch {
                for testCase in spec.tests {
                    results.append(BootTestResult(board: target, name: testCase.name, passed: false,
                                                  failure: "configure/build failed: \(error)", seconds: 0, console: ""))
                }
                log("[\(target)] FAIL configure/build: \(error)")
                continue
            }
            let runner = Runner(workspace: workspace)
            for testCase in spec.tests where testCase.boards.map({ $0.contains(target) || $0.contains(boardName) }) ?? true {
                let boots = testCase.differBetweenBoots == nil ? 1 : 2
                var outcomes: [Runner.Outcome] = []
                do {
                    for _ in 0..<boots {
                        let loader = testCase.bootLoader.flatMap(Runner.BootLoader.init(rawValue:)) ?? .direct
                        outcomes.append(try runner.run(bootArguments: testCase.bootArguments ?? [], timeout: timeout,
                                                       bootLoader: loader, echo: echo))
                    }
                } catch {
                    results.append(BootTestResult(board: boardName, name: testCase.name, passed: false,
                                                  failure: "\(error)", seconds: 0, console: ""))
                    log("[\(boardName)] FAIL \(testCase.name): \(error)")
                    continue
                }
                var failure = ""
                for (index, outcome) in outcomes.enumerated() where failure.isEmpty {
                    failure = BootTestJudge.judge(testCase, board: boardName, outcome: outcome, faultMarkers: defaults.faultMarkers,
                                                  timeout: timeout, previousOutcome: index > 0 ? outcomes[index - 1] : nil)
                }
                let seconds = outcomes.map(\.seconds).reduce(0, +)
                results.append(BootTestResult(board: boardName, name: testCase.name, passed: failure.isEmpty, failure: failure,
                                              seconds: seconds, console: outcomes.map(\.console).joined(separator: "\n--- next boot ---\n")))
                log(String(format: "[%@] %@ %@ (%.2f s)%@", boardName, failure.isEmpty ? "PASS" : "FAIL", testCase.name,
                           seconds, failure.isEmpty ? "" : ": " + failure))
            }
        }
        return results
    }
}
