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

    public func run(boards requested: [String], toolchain: String, sanitizer: Sanitizer? = nil, keyValues: [String: String] = [:],
                    log: @escaping (String) -> Void,
                    echo: @escaping (Data) -> Void) throws -> [BootTestResult] {
        let boards = try requested.isEmpty ? spec.boards ?? Board.all(in: installation).map(\.name) : requested
        let timeout = spec.timeout ?? defaults.timeout
        var results: [BootTestResult] = []
        for target in boards {
            let workspace = workspace(for: target, toolchain: toolchain)
            let boardName: String
            var keys: [String: String] = [:]
            do {
                let configured = try workspace.configure(target: target, toolchain: toolchain, sanitizer: sanitizer, keyValues: keyValues)
                boardName = configured.configuration.board
                keys = Dictionary(configured.configuration.keys.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
                log("[\(boardName)] configured; building with \(configured.configuration.toolchain)")
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
            for testCase in spec.tests {
                for name in (testCase.when ?? [:]).keys.sorted() where keys[name] == nil {
                    throw MirageError("boot-test.yaml: test '\(testCase.name)' has when: \(name), and config.swift declares no key '\(name)'",
                                      fix: "its keys: \(keys.keys.sorted().joined(separator: ", "))")
                }
            }
            for testCase in spec.tests where testCase.boards.map({ $0.contains(target) || $0.contains(boardName) }) ?? true
                && (testCase.when ?? [:]).allSatisfy({ keys[$0.key] == $0.value }) {
                if let crash = testCase.crash {
                    results.append(runCrashCase(testCase, crash, board: boardName, runner: runner, workspace: workspace,
                                                timeout: timeout, log: log, echo: echo))
                    continue
                }
                let boots = testCase.differBetweenBoots == nil ? 1 : 2
                var outcomes: [Runner.Outcome] = []
                let scratch = workspace.buildDirectory.appendingPathComponent("scratch/\(testCase.name)")
                var peer: Process?
                do {
                    let disks = try prepareDisks(for: testCase, in: scratch, workspace: workspace)
                    // Unix socket paths are short (108 bytes): in the temporary folder, not the scratch one.
                    let socket = FileManager.default.temporaryDirectory
                        .appendingPathComponent("mirage-\(ProcessInfo.processInfo.processIdentifier)-\(results.count).sock").path
                    for leftover in [socket, socket + ".qemu"] {
                        try? FileManager.default.removeItem(atPath: leftover)
                        ChildProcesses.temporary(URL(fileURLWithPath: leftover))
                    }
                    defer { for file in [socket, socket + ".qemu"] { ChildProcesses.removeTemporary(URL(fileURLWithPath: file)) } }
                    var forwards: [String] = []
                    var hostPort = 0
                    if let forward = testCase.forward {
                        let parts = forward.split(separator: ":")
                        let protocols = (parts.first ?? "").split(separator: "+").map(String.init)
                        hostPort = try BootTestSuite.freePort(udp: protocols.contains("udp"), tcp: protocols.contains("tcp"))
                        forwards = protocols.map { "\($0):\(hostPort):\(parts.last ?? "")" }
                    }
                    // An interface name is at most 15 characters, and unique on the host while it lives.
                    let tap = "mct\(ProcessInfo.processInfo.processIdentifier % 1_000_000)x\(results.count % 1000)"
                    if let command = testCase.peer {
                        let started = try startPeer(command, in: scratch, socket: socket, tap: tap, forwardPort: hostPort)
                        peer = started
                        try waitUntilReady(started, in: scratch)
                    }
                    for _ in 0..<boots {
                        let loader = testCase.bootLoader.flatMap(Runner.BootLoader.init(rawValue:)) ?? .direct
                        let logs = (testCase.logWrites ?? [:]).sorted { $0.key < $1.key }
                            .map { "\($0.key)=\(scratch.appendingPathComponent($0.value).path)" }
                        var request = Runner.BootRequest(bootArguments: testCase.bootArguments ?? [], bootLoader: loader, disks: disks,
                                                         loggingWrites: logs, network: testCase.network.map { $0 == "tap" ? "tap:\(tap)" : "dgram:\(socket)" },
                                                         forwards: forwards, qemuArguments: testCase.qemuArguments ?? [])
                        request.hostNameServer = testCase.hostNameServer
                        outcomes.append(try runner.run(request, timeout: timeout, say: log, echo: echo))
                    }
                } catch {
                    if let peer { ChildProcesses.end(group: peer.processIdentifier); ChildProcesses.forget(peer) }
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
                // The peer's own failure is often the reason the console missed its line: both are said.
                if let peer, let problem = finishPeer(peer, in: scratch) {
                    failure = failure.isEmpty ? problem : failure + "; " + problem
                }
                if failure.isEmpty && testCase.check != nil {
                    try? Data(outcomes.map(\.console).joined(separator: "\n").utf8).write(to: scratch.appendingPathComponent("console.txt"))
                    failure = runChecks(testCase, in: scratch)
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

    /// A crash case: for N = 0, 1, ...: a fresh disk, a boot whose disk fails
    /// every write after the N-th, a boot on what it left, and the checks.
    func runCrashCase(_ testCase: BootTestSpec.Case, _ crash: BootTestSpec.Crash, board: String, runner: Runner, workspace: Workspace,
                      timeout: Double, log: (String) -> Void, echo: @escaping (Data) -> Void) -> BootTestResult {
        let scratch = workspace.buildDirectory.appendingPathComponent("scratch/\(testCase.name)")
        var seconds = 0.0
        var consoles = ""
        for writes in 0...max(0, crash.writes) {
            var failure = ""
            var finished = false
            do {
                let disks = try prepareDisks(for: testCase, in: scratch, workspace: workspace)
                let crashed = try runner.run(Runner.BootRequest(bootArguments: testCase.bootArguments ?? [], disks: disks,
                                                                failingWrites: ["\(crash.disk)=\(writes)"]),
                                             timeout: timeout, say: log, echo: echo)
                let after = try runner.run(Runner.BootRequest(bootArguments: crash.verify ?? [], disks: disks), timeout: timeout,
                                           say: log, echo: echo)
                seconds += crashed.seconds + after.seconds
                consoles = crashed.console + "\n--- after the crash ---\n" + after.console
                finished = crashed.status == 0
                if crashed.timedOut { failure = "the boot with a failing disk timed out" }
                // The job must have run: a qemu that did not start proves nothing.
                if let refusal = crashed.console.split(separator: "\n").first(where: { $0.hasPrefix(QemuCommand.executable + ":") }) {
                    failure = "qemu did not boot with the failing disk: \(refusal)"
                }
                if failure.isEmpty {
                    failure = BootTestJudge.judge(testCase, board: board, outcome: after, faultMarkers: defaults.faultMarkers, timeout: timeout)
                }
                if failure.isEmpty {
                    try Data(crashed.console.utf8).write(to: scratch.appendingPathComponent("console.txt"))
                    try Data(after.console.utf8).write(to: scratch.appendingPathComponent("verify.txt"))
                    failure = runChecks(testCase, in: scratch, environment: ["CRASH_WRITES": "\(writes)"])
                }
            } catch {
                failure = "\(error)"
            }
            if !failure.isEmpty {
                log(String(format: "[%@] FAIL %@ (%.2f s): disk stopped after %d writes: %@", board, testCase.name, seconds, writes, failure))
                return BootTestResult(board: board, name: testCase.name, passed: false,
                                      failure: "disk stopped after \(writes) writes: \(failure)", seconds: seconds, console: consoles)
            }
            if finished {
                log(String(format: "[%@] PASS %@ (%.2f s): %d crash points, every one checked after a reboot", board, testCase.name, seconds, writes))
                return BootTestResult(board: board, name: testCase.name, passed: true, failure: "", seconds: seconds, console: consoles)
            }
        }
        let failure = "the stream still had writes to make after \(crash.writes) (raise crash: writes:)"
        log("[\(board)] FAIL \(testCase.name): \(failure)")
        return BootTestResult(board: board, name: testCase.name, passed: false, failure: failure, seconds: seconds, console: consoles)
    }

    /// The file a peer creates when it is ready for the boot (tools/boot_peer.py).
    static func readyFile(in folder: URL) -> URL { folder.appendingPathComponent("peer-ready") }

    /// How long a peer may take to get ready: scapy's import alone takes seconds on a slow machine.
    static let peerReadyTimeout: Double = 120

    /// Waits until the peer says it is ready (or has ended, which the verdict
    /// then reports), so that no peer loses a race to the unikernel on a slow machine.
    func waitUntilReady(_ process: Process, in folder: URL) throws {
        let file = BootTestSuite.readyFile(in: folder).path
        let deadline = Date().addingTimeInterval(BootTestSuite.peerReadyTimeout)
        while !FileManager.default.fileExists(atPath: file) && process.isRunning {
            guard Date() < deadline else {
                let said = (try? String(contentsOf: folder.appendingPathComponent("peer.log"), encoding: .utf8)) ?? ""
                throw MirageError("the peer did not say it was ready within \(Int(BootTestSuite.peerReadyTimeout)) s: "
                                  + said.split(separator: "\n").suffix(3).joined(separator: " | "),
                                  fix: "a peer calls boot_peer.ready() (tools/boot_peer.py) once the boot may start")
            }
            usleep(20_000)
        }
        // A peer that ended without saying so cannot serve the boot: fail now, not at the boot's time limit.
        if !FileManager.default.fileExists(atPath: file) {
            process.waitUntilExit()
            let said = (try? String(contentsOf: folder.appendingPathComponent("peer.log"), encoding: .utf8)) ?? ""
            throw MirageError("the peer ended (status \(process.terminationStatus)) before it said it was ready: "
                              + said.split(separator: "\n").suffix(3).joined(separator: " | "),
                              fix: "see peer.log in \(displayPath(folder.path))")
        }
    }

    /// Starts a case's peer program with /bin/sh in `folder`; its output goes to peer.log there.
    func startPeer(_ command: String, in folder: URL, socket: String, tap: String, forwardPort: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["UNIKERNEL_DIR": directory.path, "MIRAGE_ROOT": installation.root.path, "MIRAGE_CONFIG": installation.executable.path, "NET_SOCKET": socket,
             "NET_TAP": tap, "FORWARD_PORT": "\(forwardPort)", "PEER_READY": BootTestSuite.readyFile(in: folder).path]) { $1 }
        try? FileManager.default.removeItem(at: BootTestSuite.readyFile(in: folder))
        let logFile = folder.appendingPathComponent("peer.log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw MirageError("cannot create the peer's log \(displayPath(logFile.path))")
        }
        let output = try FileHandle(forWritingTo: logFile)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try ChildProcesses.start(process)
        return process
    }

    /// Waits for the peer (it has the boot's length again, at most a minute), and says what went wrong, or nil.
    func finishPeer(_ process: Process, in folder: URL) -> String? {
        defer { ChildProcesses.forget(process) }
        let timedOut = ChildProcesses.wait(for: process, timeout: 60)
        let said = (try? String(contentsOf: folder.appendingPathComponent("peer.log"), encoding: .utf8)) ?? ""
        let tail = said.split(separator: "\n").suffix(6).joined(separator: " | ")
        if timedOut { return "peer: still running after 60 s: \(tail)" }
        return process.terminationStatus == 0 ? nil : "peer: exited with \(process.terminationStatus): \(tail)"
    }

    /// A port on 127.0.0.1 that nothing listens on now, for UDP, TCP, or both (a name server's).
    static func freePort(udp: Bool, tcp: Bool) throws -> Int {
        guard udp && tcp else { return try freePort(udp: udp) }
        for _ in 0..<50 {
            let port = try freePort(udp: false)
            if (try? freePort(udp: true, exactly: port)) != nil { return port }
        }
        throw MirageError("cannot find a port on 127.0.0.1 free for both UDP and TCP")
    }

    /// A free port, from the kernel (`exactly` that one if it is free, or any: 0).
    static func freePort(udp: Bool, exactly wanted: Int = 0) throws -> Int {
        let handle = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
        guard handle >= 0 else { throw MirageError("cannot open a socket to find a free port") }
        defer { close(handle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(wanted).bigEndian
        var length = socklen_t(Swift.MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(handle, $0, length) == 0 && getsockname(handle, $0, &length) == 0 }
        }
        guard bound else { throw MirageError("cannot find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Host commands get this long each.
    static let hostCommandTimeout: Double = 300

    /// Runs the case's `prepare` commands in a fresh `scratch` folder and
    /// gives every block device an image there (`--disk NAME=FILE`), so a
    /// test never writes to the unikernel's own images.
    func prepareDisks(for testCase: BootTestSpec.Case, in scratch: URL, workspace: Workspace) throws -> [String] {
        let configuration = try workspace.configured()
        let drivers = configuration.driverCatalog
        let devices = try Disks.diskDevices(configuration, drivers: drivers)
        guard !devices.isEmpty || testCase.prepare != nil || testCase.check != nil || testCase.peer != nil || testCase.network != nil else {
            return []
        }
        try? FileManager.default.removeItem(at: scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        for command in testCase.prepare ?? [] {
            if let problem = runHostCommand(command, in: scratch) { throw MirageError("prepare: \(problem)") }
        }
        for name in (testCase.disks ?? [:]).keys.sorted() where !devices.contains(where: { $0.name == name }) {
            throw MirageError("test '\(testCase.name)' names a disk '\(name)', and the unikernel has no such block device",
                              fix: "its block devices: \(devices.map(\.name).joined(separator: ", "))")
        }
        return try devices.map { device in
            if let file = testCase.disks?[device.name] { return "\(device.name)=\(scratch.appendingPathComponent(file).path)" }
            // Named as config.swift names it, so checks find it by that name.
            let copy = scratch.appendingPathComponent(device.parameters["image"].map { URL(fileURLWithPath: $0).lastPathComponent } ?? "\(device.name).img")
            if let image = device.parameters["image"] {
                let original = resolvePath(image, in: directory)
                if FileManager.default.fileExists(atPath: original.path) { try FileManager.default.copyItem(at: original, to: copy) }
            }
            return "\(device.name)=\(copy.path)"
        }
    }

    /// The first of the case's `check` commands that fails, as a failure; "" if all pass.
    func runChecks(_ testCase: BootTestSpec.Case, in scratch: URL, environment: [String: String] = [:]) -> String {
        for command in testCase.check ?? [] {
            if let problem = runHostCommand(command, in: scratch, environment: environment) { return "check: \(problem)" }
        }
        return ""
    }

    /// Runs `command` with /bin/sh in `folder`; what went wrong, or nil.
    func runHostCommand(_ command: String, in folder: URL, environment: [String: String] = [:]) -> String? {
        let result: Shell.Result
        do {
            result = try Shell.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command], in: folder,
                                   environment: environment.merging(["UNIKERNEL_DIR": directory.path, "MIRAGE_ROOT": installation.root.path,
                                                                     "MIRAGE_CONFIG": installation.executable.path]) { $1 }, timeout: BootTestSuite.hostCommandTimeout)
        } catch {
            return "\(command): \(error)"
        }
        if result.timedOut { return "\(command): stopped after \(Int(BootTestSuite.hostCommandTimeout)) s" }
        guard result.status == 0 else {
            let said = (result.error + result.output).split(whereSeparator: \.isNewline).suffix(5).joined(separator: " | ")
            return "\(command) exited with \(result.status): \(said)"
        }
        return nil
    }
}
