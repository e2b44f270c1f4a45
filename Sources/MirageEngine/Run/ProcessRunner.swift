import Foundation

/// The host target (`--target host`): the unikernel is a program, started
/// with its boot arguments on its command line, where a board's boot loader
/// would write them into /chosen/bootargs (Sources/Boot/StartHost/main.c
/// does that in the program). Disks are files given by the host drivers'
/// `process:` arguments, as the board drivers' `qemu:` ones attach them.
extension Runner {
    /// The program and its arguments for `request`.
    public func processCommand(_ request: BootRequest, for purpose: Purpose, say: (String) -> Void = { _ in })
        throws -> (program: URL, arguments: [String]) {
        let configuration = try workspace.configured()
        let board = configuration.boardDescription
        let drivers = configuration.driverCatalog
        func unsupported(_ option: String, _ why: String) -> MirageError {
            MirageError("\(option) is not for the \(board.name) target: \(why)", fix: "leave it out, or run a board image: configure --target virt")
        }
        if request.bootLoader != .direct { throw unsupported("--boot-loader \(request.bootLoader.rawValue)", "a program has no boot loader") }
        if request.profileRate != nil { throw unsupported("--profile", "profile the program with perf record, or run it under --debug") }
        if !request.qemuArguments.isEmpty { throw unsupported("qemu arguments", "no qemu runs it") }
        if request.hostNameServer != nil { throw unsupported("host-name-server", "it is QEMU's user network's upstream; the program asks its --dns itself") }
        if !request.forwards.isEmpty { throw unsupported("--forward", "it forwards through QEMU's user network; give the program a TAP (--net tap:NAME) and reach its address") }
        // Relative paths a person gives (--net, --disk, --log-writes) are from where the tool runs.
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let takesNetwork = try configuration.devices.contains { try drivers.driver($0.driver).takesNetwork }
        if request.network != nil, !takesNetwork {
            throw MirageError("--net is for a unikernel with a network device, and '\(configuration.name)' has none",
                              fix: "drop the option, or give the job a stack (genericStack()) in config.swift")
        }
        var link: String?
        if takesNetwork, let network = request.network, network.hasPrefix("dgram-peer:"), network.count > 11 {
            // The other end of a QEMU unikernel's `--net dgram:PATH`: one wire, two unikernels.
            link = "dgram-peer:" + resolvePath(String(network.dropFirst(11)), in: here).path
        } else if takesNetwork {
            switch try QemuCommand.NetworkBackend.parse(request.network ?? "user", forwards: []) {
            case .datagram(let path): link = "dgram:" + resolvePath(path, in: here).path
            case .tap(let name): link = "tap:" + name
            default:
                throw MirageError("the \(board.name) target's network is a link the program opens: QEMU's user network is QEMU's",
                                  fix: "run --net dgram:PATH (a peer binds PATH), dgram-peer:PATH (the other end of a QEMU unikernel's --net dgram:PATH) or tap:NAME (an existing TAP interface)")
            }
        }
        let overrides = try Disks.overrides(request.disks, configuration: configuration, drivers: drivers, relativeTo: here)
        var attached = try Disks.plan(configuration, drivers: drivers, folder: workspace.directory, overrides: overrides)
        if purpose == .boot {
            workspace.removeLeftovers()
            attached = try Disks.prepare(attached, copies: workspace.buildDirectory.appendingPathComponent("disks"), say: say)
        }
        let keyOverrides = try Runner.bootKeyOverrides(request.bootArguments, keys: configuration.keys)
        var arguments = configuration.keys.filter { $0.stage == .boot }.compactMap { key in
            keyOverrides[key.name].map { "--\(key.name)=\($0)" }
        }
        for device in configuration.devices {
            let driver = try drivers.driver(device.driver)
            let disk = attached.first { $0.device == device.name }?.file.path
            for argument in driver.process where (disk != nil || !argument.contains("{disk}")) && (link != nil || !argument.contains("{netdev}")) {
                arguments.append(argument.replacingOccurrences(of: "{name}", with: device.name)
                    .replacingOccurrences(of: "{disk}", with: disk ?? "").replacingOccurrences(of: "{netdev}", with: link ?? ""))
            }
        }
        for (device, writes) in try Disks.failingWrites(request.failingWrites, attached: attached) {
            arguments.append("--mirage.fail-writes-after.\(device)=\(writes)")
        }
        for (device, log) in try Disks.loggedWrites(request.loggingWrites, attached: attached, relativeTo: here) {
            arguments.append("--mirage.log-writes.\(device)=\(log.path)")
        }
        if request.timings { arguments.append("--\(Runner.timingsArgument)=true") }
        let program = workspace.image(configuration.name)
        guard FileManager.default.isExecutableFile(atPath: program.path) else {
            throw MirageError("\(displayPath(program.path)) is not built", fix: "run: mirage-config build")
        }
        try workspace.checkImage(program, against: configuration)
        return (program, arguments)
    }

    /// Runs the program and waits at most `timeout` seconds; its standard
    /// output and error are the console.
    func runProcess(_ request: BootRequest, timeout: Double, say: (String) -> Void, echo: @escaping (Data) -> Void) throws -> Outcome {
        let (program, arguments) = try processCommand(request, for: .boot, say: say)
        return try Runner.boot(program, arguments, timeout: timeout, echo: echo)
    }

    /// The command a boot runs, as a shell line: qemu's, or the host program's.
    public func commandLine(_ request: BootRequest, for purpose: Purpose) throws -> String {
        guard try workspace.configured().boardDescription.isProcess else { return try command(request, for: purpose).shellLine }
        let (program, arguments) = try processCommand(request, for: purpose)
        return ([displayPath(program.path)] + arguments).map(shellQuoted).joined(separator: " ")
    }
}

extension Runner {
    /// `run --debug`: the host program under lldb (which knows Swift; the
    /// Swift toolchain ships it) or gdb, with this run's arguments. The
    /// program's debug information names its sources from the build folder,
    /// so the debugger finds the job's, the glue's and the runtime's files.
    public func debuggerCommand(_ request: BootRequest) throws -> [String] {
        let configuration = try workspace.configured()
        guard configuration.boardDescription.isProcess else {
            throw MirageError("--debug is for the host target: a board image runs under qemu, whose gdbstub `run --profile` uses",
                              fix: "configure --target host, build, then run --debug")
        }
        let (program, arguments) = try processCommand(request, for: .boot)
        // One that starts: the toolchain's lldb needs the Python it was built with, which a machine may lack.
        func starts(_ debugger: URL) -> Bool { (try? Shell.run(debugger, ["--version"], timeout: 20).status) == 0 }
        if let lldb = findInPath("lldb"), starts(lldb) { return [lldb.path, "--", program.path] + arguments }
        if let gdb = findInPath("gdb"), starts(gdb) { return [gdb.path, "--args", program.path] + arguments }
        throw MirageError("no debugger starts here: neither lldb nor gdb", fix: "apt-get install gdb (or lldb)")
    }
}
