import Foundation

/// The qemu-system-arm command line that boots an image on a board.
public struct QemuCommand {
    public let board: Board
    public let profile: QemuProfile
    public let image: URL
    public let deviceTree: URL
    /// qemu arguments that attach hardware qemu adds only on request, from
    /// the drivers bound to it, in the board's order of that hardware
    /// (qemu fills virtio-mmio transports in the order of its -device arguments).
    public let attachments: [String]

    /// Boot through U-Boot (the profile's firmware), which fetches what is in this folder over TFTP.
    public var uBootFolder: URL?
    /// Boot from this SD card image, as the board's boot ROM does (SPL, then U-Boot).
    public var sdCard: URL?
    /// Files made for this boot alone (fault-injection rules), removed after it.
    public var temporaryFiles: [URL] = []
    /// More qemu arguments for this boot (a boot test's `qemu-arguments`).
    public var extraArguments: [String] = []

    public init(board: Board, profile: QemuProfile, image: URL, deviceTree: URL, attachments: [String] = []) {
        self.board = board
        self.profile = profile
        self.image = image
        self.deviceTree = deviceTree
        self.attachments = attachments
    }

    /// The attachments a configuration needs: each bound driver's `qemu:`
    /// arguments, in the board's order of the hardware they are bound to,
    /// with each block device's disk image from `disks` (by instance name, as qemu's file= takes it).
    /// A disk not given is a placeholder naming the device (the configured
    /// command in qemu-command.txt); `run` gives them all.
    /// Networks connect to `network` (QEMU's user network by default).
    public static func attachments(for configuration: ResolvedConfiguration, board: Board, drivers: DriverCatalog,
                                   disks: [String: String] = [:], network: NetworkBackend = .user(forwards: [])) throws -> [String] {
        var arguments: [String] = []
        for peripheral in board.peripherals {
            let users = configuration.devices.filter { $0.peripheral == peripheral.name }
            if users.isEmpty { arguments += peripheral.qemuWhenUnused ?? [] }
            for device in users {
                let driver = try drivers.driver(device.driver)
                arguments += driver.qemuArguments(name: device.name, disk: disks[device.name] ?? "DISK-IMAGE-FOR-\(device.name)",
                                                  netdev: network.netdev(id: device.name))
            }
        }
        return arguments
    }

    public static let executable = "qemu-system-arm"

    /// What a network interface is connected to.
    public enum NetworkBackend: Equatable {
        /// QEMU's user network (slirp): the host is 10.0.2.2; traffic comes in only
        /// through forwards, `tcp|udp:HOSTPORT:GUESTPORT`, from 127.0.0.1 on the host.
        case user(forwards: [String])
        /// One datagram per frame on a Unix socket: qemu sends to PATH and receives on PATH.qemu.
        case datagram(path: String)
        /// A host TAP interface that exists already (`ip tuntap add NAME mode tap`), for speed and for real routing.
        case tap(name: String)

        /// `-netdev`'s value for the backend named `id`.
        func netdev(id: String) -> String {
            switch self {
            case .user(let forwards):
                return "user,id=\(id)" + forwards.map { forward -> String in
                    let parts = forward.split(separator: ":")
                    return ",hostfwd=\(parts[0]):127.0.0.1:\(parts[1])-:\(parts[2])"
                }.joined()
            case .datagram(let path):
                return "dgram,id=\(id),local.type=unix,local.path=\(optionValue(path + ".qemu")),remote.type=unix,remote.path=\(optionValue(path))"
            case .tap(let name):
                return "tap,id=\(id),ifname=\(name),script=no,downscript=no"
            }
        }

        /// Refuses a forward whose host port something on this machine already holds,
        /// before qemu starts (qemu would stop with a line of its own and status 1, as a job's failure).
        public func checkHostPorts() throws {
            guard case .user(let forwards) = self else { return }
            for forward in forwards {
                let parts = forward.split(separator: ":")
                let udp = parts[0] == "udp"
                let handle = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
                guard handle >= 0 else { continue }
                defer { close(handle) }
                var reuse: Int32 = 1
                setsockopt(handle, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(Swift.MemoryLayout<Int32>.size))
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                address.sin_port = UInt16(parts[1])!.bigEndian
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(handle, $0, socklen_t(Swift.MemoryLayout<sockaddr_in>.size)) == 0 }
                }
                guard bound else {
                    throw MirageError("--forward \(forward): the host's \(parts[0]) port \(parts[1]) on 127.0.0.1 is in use",
                                      fix: "choose another host port, or end what holds it (ss -ltnup shows it)")
                }
            }
        }

        /// `user`, `dgram:PATH` or `tap:NAME`; forwards go with `user`.
        public static func parse(_ text: String, forwards: [String] = []) throws -> NetworkBackend {
            for forward in forwards {
                let parts = forward.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 3, parts[0] == "tcp" || parts[0] == "udp",
                      parts[1...].allSatisfy({ UInt16($0).map { $0 > 0 } ?? false }) else {
                    throw MirageError("--forward '\(forward)' is not tcp:HOSTPORT:GUESTPORT or udp:HOSTPORT:GUESTPORT",
                                      fix: "ports are 1 to 65535, e.g. --forward tcp:8080:80")
                }
                let hostPort = parts[0] + ":" + parts[1]
                if forwards.filter({ $0.split(separator: ":").prefix(2).joined(separator: ":") == hostPort }).count > 1 {
                    throw MirageError("--forward gives the host's \(parts[0]) port \(parts[1]) twice", fix: "forward each host port once")
                }
            }
            if text == "user" { return .user(forwards: forwards) }
            guard forwards.isEmpty else { throw MirageError("--forward needs QEMU's user network, not --net \(text)") }
            if text.hasPrefix("dgram:"), text.count > 6 { return .datagram(path: String(text.dropFirst(6))) }
            if text.hasPrefix("tap:") {
                // Linux's interface names: 1 to 15 bytes, no '/', ':' or white space; ',' would end QEMU's option.
                let name = text.dropFirst(4)
                guard (1...15).contains(name.utf8.count),
                      name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: ":") }) else {
                    throw MirageError("--net '\(text)': '\(name)' is not a network interface name",
                                      fix: "1 to 15 printable characters without '/', ',' or ':', e.g. --net tap:tap0")
                }
                return .tap(name: String(name))
            }
            throw MirageError("--net '\(text)' is not a network",
                              fix: "use user (QEMU's user network), dgram:PATH (frames as datagrams on the Unix socket PATH) or tap:NAME (a host TAP interface)")
        }
    }

    /// The same command with another device tree (one `run` made for this boot).
    public func booting(_ deviceTree: URL) -> QemuCommand {
        var command = QemuCommand(board: board, profile: profile, image: image, deviceTree: deviceTree, attachments: attachments)
        command.uBootFolder = uBootFolder
        command.sdCard = sdCard
        command.temporaryFiles = temporaryFiles
        command.extraArguments = extraArguments
        return command
    }

    public var arguments: [String] {
        var arguments = ["-M", profile.machine]
        if let cpu = profile.cpu { arguments += ["-cpu", cpu] }
        arguments += ["-m", profile.memory,
                      "-nographic", "-nodefaults", "-serial", "stdio",
                      // The unikernel ends qemu with its exit status through semihosting.
                      "-semihosting-config", "enable=on,target=native"]
        if let folder = uBootFolder, let firmware = profile.uBoot {
            // U-Boot as the firmware; its network after the unikernel's own virtio
            // devices, so that they keep the transports the device tree names.
            return arguments + ["-bios", firmware] + attachments + profile.arguments + extraArguments
                + ["-netdev", "user,id=boot,tftp=\(QemuCommand.optionValue(folder.path))"] + (profile.uBootNetwork ?? [])
        }
        if let card = sdCard {
            // snapshot=on: what U-Boot writes (its environment) does not reach the image.
            return arguments + ["-drive", "if=sd,format=raw,snapshot=on,file=\(QemuCommand.optionValue(card.path))"]
                + attachments + profile.arguments + extraArguments
        }
        arguments += ["-kernel", image.path]
        if let dtb = board.memory?.reserved("dtb") {
            arguments += ["-device", "loader,file=\(QemuCommand.optionValue(deviceTree.path)),addr=0x\(String(dtb.base, radix: 16)),force-raw=on"]
        }
        return arguments + attachments + profile.arguments + extraArguments
    }

    /// A value inside a qemu option list (`key=value,key=value`): commas doubled.
    public static func optionValue(_ text: String) -> String {
        text.replacingOccurrences(of: ",", with: ",,")
    }

    /// One line a person can paste into a POSIX shell.
    public var shellLine: String {
        ([QemuCommand.executable] + arguments).map(shellQuoted).joined(separator: " ")
    }
}

extension Workspace {
    /// The qemu command that boots the configured image with `deviceTree`
    /// and the block devices' images `disks`.
    public func qemuCommand(_ configuration: ResolvedConfiguration, deviceTree: URL,
                            disks: [String: String] = [:], network: QemuCommand.NetworkBackend = .user(forwards: [])) throws -> QemuCommand {
        let board = configuration.boardDescription
        guard let profile = configuration.qemuProfile else {
            throw MirageError("the \(board.name) board has no qemu profile", fix: "flash the image to the board instead")
        }
        let drivers = configuration.driverCatalog
        return QemuCommand(board: board, profile: profile,
                           image: image(configuration.name), deviceTree: deviceTree,
                           attachments: try QemuCommand.attachments(for: configuration, board: board, drivers: drivers, disks: disks,
                                                                    network: network))
    }
}

extension Driver {
    /// Its qemu arguments for the instance `name` with the disk image `disk`
    /// (a path, put into qemu's option syntax here) and the network backend
    /// `netdev` (already in qemu's syntax, its id the instance name).
    public func qemuArguments(name: String, disk: String?, netdev: String? = nil) -> [String] {
        qemu.map { argument in
            var argument = argument.replacingOccurrences(of: "{name}", with: name)
            if let disk { argument = argument.replacingOccurrences(of: "{disk}", with: QemuCommand.optionValue(disk)) }
            if let netdev { argument = argument.replacingOccurrences(of: "{netdev}", with: netdev) }
            return argument
        }
    }
}
