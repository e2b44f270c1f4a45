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
        /// The console, decoded as UTF-8 once the boot is over.
        public let console: String
        public let seconds: Double
        /// From qemu's start to the first byte on the console.
        public var secondsToFirstOutput: Double?
        /// With `profileRate`: the top functions, and where the stacks were written.
        public var profileReport: String?

        public init(status: Int32, timedOut: Bool, console: String, seconds: Double) {
            self.status = status
            self.timedOut = timedOut
            self.console = console
            self.seconds = seconds
        }
    }

    /// What a device tree for one command is for.
    public enum Purpose {
        /// A boot: this boot's keys and a fresh rng-seed, in a temporary file removed after it.
        case boot
        /// `run --dry-run`: as for a boot, kept in `_build/dry-run.dtb` so the printed command can be pasted.
        case dryRun
        /// `query qemu`: the configured device tree, as it is.
        case query
    }

    /// How the image is started.
    public enum BootLoader: String, CaseIterable {
        /// qemu loads the ELF and the device tree itself.
        case direct
        /// The qemu profile's U-Boot fetches the uImage, device tree and boot script over TFTP and runs bootm.
        case uBoot = "u-boot"
        /// From an SD card image, as the board's boot ROM does: SPL, U-Boot, boot.scr, bootm.
        case sdCard = "sd-card"
    }

    /// What a person (`run`'s options) or a boot test asks of one boot, as
    /// given: each part is checked when the command is made.
    public struct BootRequest {
        /// `--NAME=VALUE` overrides of boot-time keys.
        public var bootArguments: [String] = []
        /// Ask the runtime to report its boot time (`mirage.timings`, not a key of the unikernel's).
        public var timings = false
        public var bootLoader: BootLoader = .direct
        /// `NAME=FILE` for block devices, over config.swift's images; for a
        /// boot, missing images are created (if config.swift says so) and padded.
        public var disks: [String] = []
        /// `NAME=N`: the disk NAME fails every write after its N-th (QEMU's
        /// blkdebug), as a disk that stops: for crash tests.
        public var failingWrites: [String] = []
        /// `NAME=LOG`: every write and flush to the disk NAME is also recorded
        /// in LOG (QEMU's blklogwrites, dm-log-writes format), to replay as crash images.
        public var loggingWrites: [String] = []
        /// `user`, `dgram:PATH` or `tap:NAME`; nil for QEMU's user network.
        public var network: String?
        /// `tcp|udp:HOSTPORT:GUESTPORT` through the user network.
        public var forwards: [String] = []
        /// More qemu arguments, after the configured ones.
        public var qemuArguments: [String] = []
        /// Samples per second for `run --profile`; nil for no profile.
        public var profileRate: Int?
        /// The host's name server that QEMU's user network forwards the guest's
        /// DNS queries to (its 10.0.2.3), instead of /etc/resolv.conf's: an
        /// IP address. QEMU runs in a mount namespace of its own where
        /// /etc/resolv.conf names it (root only; the host's file is untouched).
        public var hostNameServer: String?

        public init(bootArguments: [String] = [], timings: Bool = false, bootLoader: BootLoader = .direct, disks: [String] = [],
                    failingWrites: [String] = [], loggingWrites: [String] = [], network: String? = nil, forwards: [String] = [],
                    qemuArguments: [String] = []) {
            self.bootArguments = bootArguments
            self.timings = timings
            self.bootLoader = bootLoader
            self.disks = disks
            self.failingWrites = failingWrites
            self.loggingWrites = loggingWrites
            self.network = network
            self.forwards = forwards
            self.qemuArguments = qemuArguments
        }
    }

    /// The qemu command that boots the configured image as `request` asks.
    public func command(_ request: BootRequest, for purpose: Purpose, say: (String) -> Void = { _ in }) throws -> QemuCommand {
        let (bootArguments, timings, bootLoader) = (request.bootArguments, request.timings, request.bootLoader)
        let (disks, failingWrites, loggingWrites) = (request.disks, request.failingWrites, request.loggingWrites)
        let (network, forwards) = (request.network, request.forwards)
        let configuration = try workspace.configured()
        if purpose == .boot { workspace.removeLeftovers() }
        let board = configuration.boardDescription
        let drivers = configuration.driverCatalog
        let overrides = try Disks.overrides(disks, configuration: configuration, drivers: drivers,
                                            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        var attached = purpose == .query ? [] : try Disks.plan(configuration, drivers: drivers, folder: workspace.directory, overrides: overrides)
        if purpose == .boot {
            attached = try Disks.prepare(attached, copies: workspace.buildDirectory.appendingPathComponent("disks"), say: say)
        }
        // As qemu takes them: a file's path, or a blkdebug filename wrapping it.
        var diskFiles = Dictionary(uniqueKeysWithValues: attached.map { ($0.device, $0.file.path) })
        var faultRules: [URL] = []
        for (device, writes) in try Disks.failingWrites(failingWrites, attached: attached) {
            let rules = workspace.buildDirectory.appendingPathComponent(purpose == .boot ? "blkdebug-\(ProcessInfo.processInfo.processIdentifier)-\(device).cfg"
                                                                                          : "dry-run-\(device).cfg")
            if purpose == .boot { ChildProcesses.temporary(rules) }
            try Disks.blkdebugRules(failingAfter: writes).write(to: rules, atomically: true, encoding: .utf8)
            faultRules.append(rules)
            diskFiles[device] = "blkdebug:\(rules.path):\(diskFiles[device]!)"
        }
        for (device, log) in try Disks.loggedWrites(loggingWrites, attached: attached,
                                                     relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
            if purpose == .boot {
                guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
                    throw MirageError("cannot create the write log \(displayPath(log.path))")
                }
            }
            diskFiles[device] = Disks.blklogwrites(image: diskFiles[device]!, log: log.path)
        }
        if network != nil || !forwards.isEmpty,
           try !configuration.devices.contains(where: { try drivers.driver($0.driver).takesNetwork }) {
            throw MirageError("\(network != nil ? "--net" : "--forward") is for a unikernel with a network device, and '\(configuration.name)' has none",
                              fix: "drop the option, or give the job a stack (genericStack()) in config.swift")
        }
        var backend = try QemuCommand.NetworkBackend.parse(network ?? "user", forwards: forwards)
        if purpose == .boot { try backend.checkHostPorts() }
        if case .datagram(let path) = backend {
            backend = .datagram(path: resolvePath(path, in: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path)
        }
        var configured = try workspace.qemuCommand(configuration, deviceTree: workspace.deviceTreeBlob, disks: diskFiles,
                                                   network: backend)
        if purpose == .boot { configured.temporaryFiles = faultRules }
        if bootLoader == .sdCard, configured.profile.bootsFromSDCard != true {
            throw MirageError("QEMU's model of the \(board.name) board does not emulate its boot ROM, so it cannot boot from an SD card here",
                              fix: board.sdCard == nil ? "boot it with --boot-loader direct"
                                  : "boot it with --boot-loader direct; the SD card image (mirage-config image --format sdcard) is for the real board")
        }
        if bootLoader == .sdCard, configured.attachments.contains(where: { $0.hasPrefix("if=sd") || $0.contains(",if=sd") }) {
            throw MirageError("the board's SD card slot holds the boot card, so a disk on the SD card host cannot be attached too",
                              fix: "boot it with --boot-loader direct, or give the disk another driver")
        }
        try workspace.checkImage(configured.image, against: configuration)
        let keyOverrides = try Runner.bootKeyOverrides(bootArguments, keys: configuration.keys)
        configured.extraArguments = request.qemuArguments
        guard purpose != .query else { return configured }
        // This boot's kernel command line: the configured boot-time keys, these overrides, and the timings request.
        let keys = configuration.keys.filter { $0.stage == .boot }.map { key in (key.name, keyOverrides[key.name] ?? key.value) }
        let line = BootArgumentQuoting.commandLine(keys + (timings ? [(Runner.timingsArgument, "true")] : []))
        if bootLoader == .sdCard {
            let card = workspace.buildDirectory.appendingPathComponent(purpose == .boot ? "run-\(ProcessInfo.processInfo.processIdentifier).sdcard.img" : "dry-run.sdcard.img")
            if purpose == .boot { ChildProcesses.temporary(card) }
            try BootImage(workspace: workspace).sdCard(configuration, board: board, raw: workspace.rawImage(configuration.name),
                                                       bootArguments: line, to: card)
            var command = configured
            command.sdCard = card
            return command
        }
        if bootLoader == .uBoot {
            guard configured.profile.uBoot != nil else {
                throw MirageError("qemu/\(board.qemu ?? board.name).yaml names no U-Boot for the \(board.name) board", fix: "boot it with --boot-loader direct")
            }
            let folder = workspace.buildDirectory.appendingPathComponent(purpose == .boot ? "tftp-\(ProcessInfo.processInfo.processIdentifier)" : "tftp")
            if purpose == .boot { ChildProcesses.temporary(folder) }
            try BootImage(workspace: workspace).tftpFolder(folder, bootArguments: line)
            var command = configured
            command.uBootFolder = folder
            return command
        }
        let profile = configured.profile
        guard !keyOverrides.isEmpty || timings || profile.rngSeed == true else { return configured }
        // Like a boot loader: this boot's command line, and a fresh rng-seed
        // where the emulated firmware gives one. Never written into the image.
        var dtb = try workspace.readDeviceTree()
        if !keyOverrides.isEmpty || timings { dtb = try DeviceTreeBlob.settingBootArguments(dtb, to: line) }
        if profile.rngSeed == true {
            dtb = try DeviceTreeBlob.settingChosen(dtb, property: "rng-seed", to: try Runner.freshSeed())
        }
        if let region = board.memory?.reserved("dtb"), dtb.count > region.size {
            throw MirageError("the device tree with these boot arguments is \(dtb.count) bytes, larger than the \(region.size)-byte dtb region of \(board.file)",
                              fix: "give shorter boot-time values, or enlarge memory.reserved's dtb region")
        }
        let deviceTree: URL
        switch purpose {
        case .boot:
            deviceTree = workspace.buildDirectory.appendingPathComponent("run-\(ProcessInfo.processInfo.processIdentifier).dtb")
            ChildProcesses.temporary(deviceTree)
        case .dryRun, .query:
            deviceTree = workspace.buildDirectory.appendingPathComponent("dry-run.dtb")
        }
        try dtb.write(to: deviceTree, options: .atomic)
        return configured.booting(deviceTree)
    }

    /// `--NAME=VALUE` (or `--NAME`, meaning true) for boot-time keys, checked:
    /// a key the configuration does not declare, a configure-time key, or a
    /// value that does not fit is an error naming the key.
    public static func bootKeyOverrides(_ arguments: [String], keys: [ResolvedKey]) throws -> [String: String] {
        var overrides: [String: String] = [:]
        let bootKeys = keys.filter { $0.stage == .boot }
        let known = bootKeys.isEmpty ? "this unikernel has no boot-time keys" : "its boot-time keys are: " + bootKeys.map { "--\($0.name)" }.joined(separator: ", ")
        for argument in arguments {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw MirageError("boot argument '\(argument)' is not --NAME=VALUE", fix: known)
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let value = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : "true"
            guard let key = keys.first(where: { $0.name == name }) else {
                throw MirageError("the unikernel has no key --\(name)", fix: known)
            }
            guard key.stage == .boot else {
                throw MirageError("--\(name) is fixed when the image is configured, not at boot",
                                  fix: "run: mirage-config configure --\(name) \(value), then build")
            }
            if let problem = key.problem(with: value) {
                throw MirageError("boot-time key --\(name) does not take '\(value)': \(problem)", fix: "give --\(name) a value that fits")
            }
            overrides[name] = value
        }
        if let problem = KeyValues.relationProblem(bootKeys.map { ($0.name, $0.format, overrides[$0.name] ?? $0.value) }) {
            throw MirageError(problem.text, fix: "give the keys values that work together")
        }
        return overrides
    }

    /// The boot argument that makes the runtime report its boot time.
    public static let timingsArgument = "mirage.timings"

    /// The runtime's report: cycles from reset to the job, if it printed one.
    public static func cyclesToJob(in console: String) -> UInt64? {
        guard let line = console.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("mirage: ") && $0.hasSuffix(" cycles from reset to the job") }) else {
            return nil
        }
        // 0: the CPU's cycle counter does not run (QEMU's Cortex-A8 and A9 have none).
        return UInt64(line.dropFirst("mirage: ".count).prefix { $0.isNumber }).flatMap { $0 == 0 ? nil : $0 }
    }

    /// 32 bytes from the host's /dev/urandom, as QEMU virt puts in its own DTB.
    static func freshSeed() throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: "/dev/urandom") else { throw MirageError("cannot read /dev/urandom") }
        defer { try? handle.close() }
        let seed = handle.readData(ofLength: 32)
        guard seed.count == 32 else { throw MirageError("short read from /dev/urandom") }
        return seed
    }

    /// Boots and waits at most `timeout` seconds; `echo` gets the console's
    /// bytes as they come, unchanged.
    public func run(_ request: BootRequest = BootRequest(), timeout: Double, say: (String) -> Void = { _ in },
                    echo: @escaping (Data) -> Void) throws -> Outcome {
        if try workspace.configured().boardDescription.isProcess {
            return try runProcess(request, timeout: timeout, say: say, echo: echo)
        }
        var request = request
        var sampler: Sampler?
        // QEMU's gdbstub on a socket of this boot's; the sampler connects once qemu made it.
        let socket = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mirage-profile-\(ProcessInfo.processInfo.processIdentifier).sock")
        if let rate = request.profileRate {
            try? FileManager.default.removeItem(at: socket)
            ChildProcesses.temporary(socket)
            request.qemuArguments += ["-chardev", "socket,id=mirage-profile,path=\(socket.path),server=on,wait=off", "-gdb", "chardev:mirage-profile"]
            sampler = Sampler(socketPath: socket.path, rate: rate)
        }
        defer { if sampler != nil { ChildProcesses.removeTemporary(socket) } }
        let command = try command(request, for: .boot, say: say)
        defer { command.temporaryFiles.forEach(ChildProcesses.removeTemporary) }
        defer {
            if command.deviceTree != workspace.deviceTreeBlob { ChildProcesses.removeTemporary(command.deviceTree) }
            if let folder = command.uBootFolder { ChildProcesses.removeTemporary(folder) }
            if let card = command.sdCard { ChildProcesses.removeTemporary(card) }
        }
        guard var qemu = findInPath(QemuCommand.executable) else {
            throw MirageError("\(QemuCommand.executable) is not installed", fix: QemuProfile.installHint)
        }
        var arguments = command.arguments
        let resolvConf = workspace.buildDirectory.appendingPathComponent("resolv-\(ProcessInfo.processInfo.processIdentifier).conf")
        if let server = request.hostNameServer {
            ChildProcesses.temporary(resolvConf)
            try Data(Runner.resolvConf(naming: server).utf8).write(to: resolvConf)
            (qemu, arguments) = try Runner.inMountNamespace(qemu, arguments, binding: resolvConf, over: "/etc/resolv.conf")
        }
        defer { if request.hostNameServer != nil { ChildProcesses.removeTemporary(resolvConf) } }
        guard let sampler else {
            return try Runner.boot(qemu, arguments, timeout: timeout, echo: echo)
        }
        // The profile is written when the unikernel ends, and when a signal ends
        // the tool (a server is stopped with Ctrl-C), after qemu has ended.
        let image = command.image, folder = workspace.buildDirectory.appendingPathComponent("profile")
        let writeProfile = { () -> String in
            do { return try ProfileReport.write(sampler.finish(), rate: sampler.rate, image: image, to: folder) } catch {
                return "profile: not written: \(error)\n"
            }
        }
        ChildProcesses.onSignal { FileHandle.standardError.write(Data(writeProfile().utf8)) }
        sampler.start()
        var outcome = try Runner.boot(qemu, arguments, timeout: timeout, echo: echo)
        ChildProcesses.onSignal(nil)
        outcome.profileReport = writeProfile()
        return outcome
    }

    /// A resolv.conf of one line naming `server`, which must be an IP address (checked: it becomes a file's text).
    static func resolvConf(naming server: String) throws -> String {
        var address4 = in_addr(), address6 = in6_addr()
        guard inet_pton(AF_INET, server, &address4) == 1 || inet_pton(AF_INET6, server, &address6) == 1 else {
            throw MirageError("'\(server)' is not an IP address, so it cannot be QEMU's upstream name server", fix: "give an IPv4 or IPv6 address, such as 127.77.0.3")
        }
        return "nameserver \(server)\n"
    }

    /// `program arguments` as run in a mount namespace of its own (unshare(1),
    /// which then execs it in the same process, so its group and signals are
    /// as before) in which `file` is bind-mounted over `target`. Needs root.
    static func inMountNamespace(_ program: URL, _ arguments: [String], binding file: URL, over target: String) throws -> (URL, [String]) {
        guard getuid() == 0 else {
            throw MirageError("QEMU's own name server upstream needs root: qemu runs in a mount namespace where \(target) is another file",
                              fix: "run the test as root, or leave out host-name-server")
        }
        guard let unshare = findInPath("unshare") else { throw MirageError("unshare is not installed", fix: "apt-get install util-linux") }
        return (unshare, ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", "mount --bind \"$0\" \"$1\" && shift && exec \"$@\"",
                          file.path, target, program.path] + arguments)
    }

    /// Runs `program` (qemu, or a host target's program) with its console on
    /// standard output and error.
    static func boot(_ program: URL, _ arguments: [String], timeout: Double, echo: @escaping (Data) -> Void) throws -> Outcome {
        let result = try Shell.run(program, arguments, timeout: timeout, mergingErrors: true, echo: echo)
        var outcome = Outcome(status: result.status, timedOut: result.timedOut, console: result.output, seconds: result.seconds)
        outcome.secondsToFirstOutput = result.secondsToFirstOutput
        return outcome
    }
}
