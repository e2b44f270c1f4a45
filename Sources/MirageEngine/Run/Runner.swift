import Foundation

/// Boots an image under qemu-system-arm, streams its console, and reports
/// the unikernel's own exit status (through semihosting), or a timeout.
public struct Runner {
    public let workspace: Workspace

    public init(workspace: Workspace) { self.workspace = workspace }

    public struct Outcome {
        /// qemu's exit status: the unikernel's own, when it exited.
        public let status: Int32
        public let timedOut: Bool
        public let console: String
        public let seconds: Double
    }

    /// The command that boots the configured image, with `bootArguments`
    /// appended to the configured kernel command line (later values win).
    public func command(bootArguments: [String]) throws -> (ResolvedConfiguration, QemuCommand) {
        let configuration = try workspace.configured()
        let board = try Board.load(configuration.board, from: workspace.installation)
        let configured = try workspace.qemuCommand(configuration, board: board, deviceTree: workspace.deviceTreeBlob)
        guard FileManager.default.fileExists(atPath: configured.image.path) else {
            throw MirageError("no image \(displayPath(configured.image.path))", fix: "run: mirage-config build")
        }
        let profile = configured.profile
        // Like a boot loader: this boot's command line, and a fresh rng-seed
        // where the emulated firmware gives one. Never written into the image.
        var deviceTree = workspace.deviceTreeBlob
        if !bootArguments.isEmpty || profile.rngSeed == true {
            var dtb = try Data(contentsOf: workspace.deviceTreeBlob)
            if !bootArguments.isEmpty {
                let configured = DeviceTreeBlob.bootArguments(of: dtb) ?? ""
                let line = ([configured] + bootArguments.map(Runner.quoted)).filter { !$0.isEmpty }.joined(separator: " ")
                dtb = try DeviceTreeBlob.settingBootArguments(dtb, to: line)
            }
            if profile.rngSeed == true {
                dtb = try DeviceTreeBlob.settingChosen(dtb, property: "rng-seed", to: try Runner.freshSeed())
            }
            deviceTree = workspace.buildDirectory.appendingPathComponent("run-\(ProcessInfo.processInfo.processIdentifier).dtb")
            try dtb.write(to: deviceTree, options: .atomic)
        }
        return (configuration, configured.booting(deviceTree))
    }

    /// 32 bytes from the host's /dev/urandom, as QEMU virt puts in its own DTB.
    static func freshSeed() throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: "/dev/urandom") else { throw MirageError("cannot read /dev/urandom") }
        defer { try? handle.close() }
        let seed = handle.readData(ofLength: 32)
        guard seed.count == 32 else { throw MirageError("short read from /dev/urandom") }
        return seed
    }

    static func quoted(_ argument: String) -> String {
        guard argument.contains(" "), let equals = argument.firstIndex(of: "=") else { return argument }
        return argument[...equals] + "\"" + argument[argument.index(after: equals)...] + "\""
    }

    /// Boots and waits at most `timeout` seconds; `echo` gets console output as it comes.
    public func run(bootArguments: [String] = [], timeout: Double, echo: @escaping (String) -> Void) throws -> Outcome {
        let (_, command) = try command(bootArguments: bootArguments)
        defer { if command.deviceTree != workspace.deviceTreeBlob { try? FileManager.default.removeItem(at: command.deviceTree) } }
        guard let qemu = findInPath(QemuCommand.executable) else {
            throw MirageError("\(QemuCommand.executable) is not installed", fix: QemuProfile.installHint)
        }
        return try Runner.boot(qemu, command.arguments, timeout: timeout, echo: echo)
    }

    static func boot(_ qemu: URL, _ arguments: [String], timeout: Double, echo: @escaping (String) -> Void) throws -> Outcome {
        let process = Process()
        process.executableURL = qemu
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let console = DataBox()
        let finished = DispatchSemaphore(value: 0)
        let started = Date()
        try process.run()
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global().async {
            let handle = pipe.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                console.data.append(chunk)
                echo(String(decoding: chunk, as: UTF8.self))
            }
            reader.leave()
        }
        DispatchQueue.global().async {
            process.waitUntilExit()
            finished.signal()
        }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            if finished.wait(timeout: .now() + 5) == .timedOut { kill(process.processIdentifier, SIGKILL); finished.wait() }
        }
        reader.wait()
        let text = String(decoding: console.data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        return Outcome(status: timedOut ? 124 : process.terminationStatus, timedOut: timedOut,
                       console: text, seconds: Date().timeIntervalSince(started))
    }
}
