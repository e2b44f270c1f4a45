import Foundation

/// Boot tests as data, like Zephyr twister's console harness: an image, a
/// board, console lines expected in order, an exit status and a timeout.
/// A unikernel declares its own in boot-test.yaml beside config.swift.
public struct BootTestSpec: Codable {
    /// Boards to boot on (`mirage-config test --target` narrows it); every
    /// board in targets/ when absent, so a new board is tested with no edit here.
    public let boards: [String]?
    /// Seconds per boot; the harness default (qemu/boot-test.yaml) if absent.
    public let timeout: Double?
    public let tests: [Case]

    public struct Case: Codable {
        public let name: String
        /// Appended to the kernel command line, as `run -- ARGS` does.
        public let bootArguments: [String]?
        /// Lines that must appear in this order; `{board}` is the board's name.
        /// Each is matched as a substring of one console line.
        public let expect: [String]
        public let exitStatus: Int32?
        /// The test is of the fault path: a fault marker is expected, not a failure.
        public let expectFault: Bool?
        /// Boot twice; the first console line containing this text must differ
        /// between the boots (random output, say).
        public let differBetweenBoots: String?
        /// Run this case only on these boards (default: all of the file's).
        public let boards: [String]?
        /// How the image is started: direct (the default) or u-boot.
        public let bootLoader: String?
        /// Shell commands run before the boot in a fresh scratch folder (the
        /// unikernel's folder is $UNIKERNEL_DIR, mirage-config's $MIRAGE_ROOT, the tool $MIRAGE_CONFIG): they make disk images with
        /// tools this project did not write (tar, littlefs-python, ...).
        public let prepare: [String]?
        /// Disk images for block devices, by device name, relative to the
        /// scratch folder. A block device not named here gets a scratch copy
        /// of config.swift's image, or a new one if config.swift says create.
        public let disks: [String: String]?
        /// Shell commands run in the scratch folder after a boot that passed;
        /// each must exit 0 (they check what the unikernel wrote; the boot's
        /// console is in console.txt there).
        public let check: [String]?
        /// A crash test: boots once per N, with `disk` failing every write after
        /// its N-th, then again with `verify` boot arguments on the same image;
        /// `expect` and `exit-status` judge the verify boot, and `check` runs
        /// after each (with the crash boot's console in console.txt, the
        /// verify boot's in verify.txt, N in $CRASH_WRITES). N counts from 0
        /// until the crash boot ends with status 0 (nothing failed), at most `writes`.
        public let crash: Crash?
        /// Disks whose every write and flush is recorded (QEMU's blklogwrites)
        /// in a log file in the scratch folder, by device name: for checks
        /// that replay the log as crash images.
        public let logWrites: [String: String]?
        /// More qemu arguments for this case's boots (`-global
        /// virtio-mmio.force-legacy=false`: the modern virtio interface).
        public let qemuArguments: [String]?
        /// `dgram`: the network interface exchanges frames with the case's
        /// peer over a Unix socket ($NET_SOCKET in the scratch folder) instead
        /// of QEMU's user network. `tap`: it is QEMU's `-netdev tap` on the
        /// host TAP interface named $NET_TAP, which the peer makes (as root)
        /// before it says it is ready, and removes: the one backend through
        /// which virtio-net offers its offloads.
        public let network: String?
        /// `tcp:GUESTPORT`, `udp:GUESTPORT` or both, `udp+tcp:GUESTPORT` (one port for the two): forwarded from a free port on
        /// the host's 127.0.0.1 ($FORWARD_PORT) over QEMU's user network.
        public let forward: String?
        /// QEMU's user network forwards the guest's DNS queries (to 10.0.2.3)
        /// to this host address, where the case's peer runs a name server,
        /// instead of to /etc/resolv.conf's (root: qemu runs in a mount
        /// namespace of its own; see `Runner.BootRequest.hostNameServer`).
        public let hostNameServer: String?
        /// A host program started before the boot in the scratch folder (a
        /// scapy script on $NET_SOCKET, say) that must exit 0 once the boot is over.
        public let peer: String?
        /// Run only when the configuration's keys have these values
        /// (`mirage-config test -- --store tar`).
        public let when: [String: String]?

        public init(name: String, bootArguments: [String]? = nil, expect: [String], exitStatus: Int32? = nil,
                    expectFault: Bool? = nil, differBetweenBoots: String? = nil, boards: [String]? = nil, bootLoader: String? = nil,
                    prepare: [String]? = nil, disks: [String: String]? = nil, check: [String]? = nil, when: [String: String]? = nil,
                    crash: Crash? = nil, logWrites: [String: String]? = nil, qemuArguments: [String]? = nil,
                    network: String? = nil, peer: String? = nil, forward: String? = nil, hostNameServer: String? = nil) {
            self.forward = forward
            self.hostNameServer = hostNameServer
            self.network = network
            self.peer = peer
            self.qemuArguments = qemuArguments
            self.logWrites = logWrites
            self.when = when
            self.crash = crash
            self.prepare = prepare
            self.disks = disks
            self.check = check
            self.name = name
            self.bootArguments = bootArguments
            self.expect = expect
            self.exitStatus = exitStatus
            self.expectFault = expectFault
            self.differBetweenBoots = differBetweenBoots
            self.boards = boards
            self.bootLoader = bootLoader
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, expect, boards, prepare, disks, check, when, crash, network, peer, forward
            case bootArguments = "boot-arguments"
            case exitStatus = "exit-status"
            case expectFault = "expect-fault"
            case differBetweenBoots = "differ-between-boots"
            case bootLoader = "boot-loader"
            case logWrites = "log-writes"
            case qemuArguments = "qemu-arguments"
            case hostNameServer = "host-name-server"
        }
    }

    public struct Crash: Codable {
        /// The block device whose writes stop.
        public let disk: String
        /// The most crash points to try.
        public let writes: Int
        /// Boot arguments of the boot after the crash.
        public let verify: [String]?
    }

    public static let fileName = "boot-test.yaml"

    public static func load(from directory: URL) throws -> BootTestSpec {
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw MirageError("no \(fileName) in \(displayPath(directory.path))",
                              fix: "declare boards, and tests with expected console lines, in \(fileName) beside config.swift")
        }
        try checkFields(of: file, allowed: ["boards", "timeout", "tests"])
        let spec = try decodeYAML(BootTestSpec.self, from: file)
        try checkFields(of: file, inEachOf: "tests", allowed: BootTestSpec.Case.CodingKeys.allCases.map(\.rawValue))
        for testCase in spec.tests {
            if let server = testCase.hostNameServer {
                do { _ = try Runner.resolvConf(naming: server) } catch let error as MirageError {
                    throw MirageError("\(displayPath(file.path)): test '\(testCase.name)': \(error.message)", fix: error.fix)
                }
            }
        }
        for testCase in spec.tests where testCase.network.map({ $0 != "dgram" && $0 != "tap" }) ?? false {
            throw MirageError("\(displayPath(file.path)): test '\(testCase.name)' has network '\(testCase.network!)'",
                              fix: "a test's network is dgram (frames on a Unix socket) or tap (a TAP interface its peer makes)")
        }
        for testCase in spec.tests where testCase.bootLoader.map({ Runner.BootLoader(rawValue: $0) == nil }) ?? false {
            throw MirageError("\(displayPath(file.path)): test '\(testCase.name)' has boot-loader '\(testCase.bootLoader!)'",
                              fix: "use one of: \(Runner.BootLoader.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if spec.tests.isEmpty {
            throw MirageError("\(displayPath(file.path)) has no tests", fix: "add at least one under tests: (name, expect, exit-status)")
        }
        if let timeout = spec.timeout, !(timeout > 0 && timeout.isFinite) {
            throw MirageError("\(displayPath(file.path)): timeout must be a number of seconds greater than 0")
        }
        return spec
    }
}

/// The verdict of one boot.
public struct BootTestResult {
    public let board: String
    public let name: String
    public let passed: Bool
    /// Why it failed, empty when it passed.
    public let failure: String
    public let seconds: Double
    public let console: String
}

/// Checks one boot's console and status against a case.
public enum BootTestJudge {
    /// `previousOutcome`: the first boot, for cases that must differ between boots.
    public static func judge(_ testCase: BootTestSpec.Case, board: String, outcome: Runner.Outcome,
                             faultMarkers: [String], timeout: Double, previousOutcome: Runner.Outcome? = nil) -> String {
        let lines = outcome.console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        let fault = lines.first { line in faultMarkers.contains { line.contains($0) } }
        if testCase.expectFault == true {
            if fault == nil { return "expected a fault report, saw none" }
        } else if let fault {
            return "fault: \(fault)"
        }
        var next = 0
        for expected in testCase.expect.map({ $0.replacingOccurrences(of: "{board}", with: board) }) {
            guard let found = lines[next...].firstIndex(where: { $0.contains(expected) }) else {
                let reason = outcome.timedOut ? "timed out after \(Int(timeout)) s" : "exited with \(outcome.status)"
                return "expected line not seen (in order): \"\(expected)\"; \(reason)"
            }
            next = found + 1
        }
        if outcome.timedOut { return "timed out after \(Int(timeout)) s" }
        if let marker = testCase.differBetweenBoots, let previous = previousOutcome {
            let line = { (console: String) in console.split(whereSeparator: \.isNewline).first { $0.contains(marker) }.map(String.init) }
            guard let first = line(previous.console), let second = line(outcome.console) else {
                return "no line containing \"\(marker)\" to compare between boots"
            }
            if first == second { return "two boots printed the same \"\(marker)\" line: \(first)" }
        }
        let expectedStatus = testCase.exitStatus ?? 0
        if outcome.status != expectedStatus { return "exit status \(outcome.status), expected \(expectedStatus)" }
        return ""
    }
}

/// JUnit XML for CI systems.
public enum JUnitReport {
    public static func xml(suite: String, results: [BootTestResult]) -> String {
        let failures = results.filter { !$0.passed }.count
        let total = results.map(\.seconds).reduce(0, +)
        var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        text += "<testsuites tests=\"\(results.count)\" failures=\"\(failures)\" time=\"\(format(total))\">\n"
        text += "  <testsuite name=\"\(escape(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" time=\"\(format(total))\">\n"
        for result in results {
            text += "    <testcase classname=\"\(escape(suite)).\(escape(result.board))\" name=\"\(escape(result.name))\" time=\"\(format(result.seconds))\">\n"
            if !result.passed {
                text += "      <failure message=\"\(escape(result.failure))\"/>\n"
            }
            text += "      <system-out>\(escape(result.console))</system-out>\n"
            text += "    </testcase>\n"
        }
        text += "  </testsuite>\n</testsuites>\n"
        return text
    }

    static func format(_ seconds: Double) -> String { String(format: "%.3f", seconds) }

    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\n", "\t": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 { continue }   // not allowed in XML 1.0
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
