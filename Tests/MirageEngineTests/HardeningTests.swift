import Boot
import Foundation
import MirageConfig
@testable import MirageEngine
import XCTest

/// Bad input and interruption: each defect class found by trying the tool as
/// a new user would, with a test that failed before it was fixed.
final class HardeningTests: XCTestCase {
    // MARK: Nothing the tool starts outlives it

    /// hello, printing 100 times 200 ms apart: long enough to interrupt mid-boot.
    func longHello() throws -> URL {
        let folder = try Fixtures.copy(example: "examples/hello")
        let config = folder.appendingPathComponent("config.swift")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "default: 3,", with: "default: 100,")
            .write(to: config, atomically: true, encoding: .utf8)
        try "tests:\n  - name: long\n    expect: [\"never printed\"]\n"
            .write(to: folder.appendingPathComponent(BootTestSpec.fileName), atomically: true, encoding: .utf8)
        return folder
    }

    func assertNothingLeft(in folder: URL, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(processes(containing: folder.path), [], "\(what) left processes behind", file: file, line: line)
        let leftovers = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix("run-") }
        XCTAssertEqual(leftovers, [], "\(what) left temporary device trees behind", file: file, line: line)
    }

    func testInterruptedRunAndTestLeaveNoQemuAndNoTemporaryFile() throws {
        try requireSystemTests()
        let folder = try longHello()
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "virt"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)

        let run = try ToolRun(["run", "--", "--message=interrupted"], in: folder)
        XCTAssertTrue(run.waitFor("Hello from virt: interrupted (2/100)"), run.output)
        XCTAssertTrue(processes(containing: folder.path).contains { $0.contains("qemu-system-arm") }, "qemu is running")
        kill(run.process.processIdentifier, SIGINT)
        XCTAssertEqual(run.finish(), 128 + SIGINT)
        assertNothingLeft(in: folder, "run, on SIGINT")

        let test = try ToolRun(["test", "--target", "virt", "--verbose"], in: folder)
        XCTAssertTrue(test.waitFor("Hello from virt: Hello, world (2/100)", seconds: 300), test.output)
        kill(test.process.processIdentifier, SIGTERM)
        XCTAssertEqual(test.finish(), 128 + SIGTERM)
        assertNothingLeft(in: folder, "test, on SIGTERM")
    }

    /// `run | head -2`: the tool's output closes; SIGQUIT (Ctrl-\\); SIGKILL,
    /// which the tool cannot catch: each ends qemu, and what a killed tool
    /// left in _build/ goes at the next run.
    func testClosedOutputQuitAndKillLeaveNoQemu() throws {
        try requireSystemTests()
        let folder = try longHello()
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "virt"], in: folder).0, 0)
        XCTAssertEqual(try ToolRun.run(["build"], in: folder).0, 0)

        let process = Process()
        process.executableURL = ToolRun.executable
        process.arguments = ["run"]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("(2/100)") {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        try pipe.fileHandleForReading.close()      // as `head -2` does once it has its lines
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        XCTAssertFalse(process.isRunning, "the tool ended when its output closed")
        if !process.isRunning { XCTAssertEqual(process.terminationStatus, 128 + SIGPIPE) }
        assertNothingLeft(in: folder, "run, its output closed")

        let quit = try ToolRun(["run"], in: folder)
        XCTAssertTrue(quit.waitFor("(2/100)"), quit.output)
        kill(quit.process.processIdentifier, SIGQUIT)
        XCTAssertEqual(quit.finish(), 128 + SIGQUIT)
        XCTAssertFalse(quit.output.contains("Backtrac") || quit.output.contains("crashed"), quit.output)
        assertNothingLeft(in: folder, "run, on SIGQUIT")

        let killed = try ToolRun(["run"], in: folder)
        XCTAssertTrue(killed.waitFor("(2/100)"), killed.output)
        kill(killed.process.processIdentifier, SIGKILL)
        _ = killed.finish()
        let gone = Date().addingTimeInterval(10)
        while !processes(containing: folder.path).isEmpty, Date() < gone { usleep(100_000) }
        XCTAssertEqual(processes(containing: folder.path), [], "qemu ended with the killed tool")
        let build = folder.appendingPathComponent("_build")
        XCTAssertTrue((try FileManager.default.contentsOfDirectory(atPath: build.path)).contains { $0.hasPrefix("run-") },
                      "a killed tool cannot remove its device tree")
        _ = try ToolRun.run(["run", "--timeout", "1"], in: folder)
        assertNothingLeft(in: folder, "the next run, after a SIGKILL")
    }

    func testInterruptedBuildLeavesNoCompiler() throws {
        try requireSystemTests()
        let folder = try longHello()
        XCTAssertEqual(try ToolRun.run(["configure", "--target", "cubieboard"], in: folder).0, 0)
        let build = try ToolRun(["build"], in: folder)
        let deadline = Date().addingTimeInterval(120)
        while !processes(containing: folder.path).contains(where: { $0.contains("swift-frontend") }), Date() < deadline { usleep(50_000) }
        XCTAssertTrue(processes(containing: folder.path).contains { $0.contains("swift-frontend") }, "the compiler is running: \(build.output)")
        kill(build.process.processIdentifier, SIGINT)
        XCTAssertEqual(build.finish(), 128 + SIGINT)
        assertNothingLeft(in: folder, "build, on SIGINT")
    }

    // MARK: Boot-time keys cannot inject

    /// The tool's quoting and the runtime's parser agree on every string.
    func testBootArgumentQuotingRoundTripsThroughTheRuntimeParser() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\t", "\n", "\r", "\"", "\\", "=", "-", "'", "x", "\u{0}", "\u{1}",
                                          "\u{7F}", "é", "世", "\u{1F600}", "\u{200B}"]
        var cases = ["", " ", "\"", "\\", "\\x41", "x\" --count=5 \"y", "a\tb\nc\rd", "--count=9", "\"\"\"", "\\\\\"", "Grüße, 世界"]
        for _ in 0..<3000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &generator) { text.append(alphabet.randomElement(using: &generator)!) }
            cases.append(String(text))
        }
        for value in cases {
            let line = BootArgumentQuoting.commandLine([("message", value), ("count", "3")])
            Array(line.utf8).withUnsafeBytes { bytes in
                let parsed = BootArguments(bytes: bytes)
                XCTAssertEqual(parsed.value(for: "message"), Array(value.utf8), "quoted as \(line)")
                XCTAssertEqual(parsed.value(for: "count"), Array("3".utf8), "a value must not reach the next key: \(line)")
                XCTAssertEqual(parsed.count, 2, line)
            }
        }
    }

    func testRuntimeIntParserRefusesWhatDoesNotFit() {
        XCTAssertEqual(Int(bootArgument: Array("-42".utf8)), -42)
        XCTAssertEqual(Int(bootArgument: Array("\(Int.max)".utf8)), Int.max)
        XCTAssertEqual(Int(bootArgument: Array("\(Int.min)".utf8)), Int.min)
        XCTAssertNil(Int(bootArgument: Array("9223372036854775808".utf8)), "overflow is nil, not a trap")
        XCTAssertNil(Int(bootArgument: Array("99999999999999999999999".utf8)))
        XCTAssertNil(Int(bootArgument: Array("+5".utf8)))
        XCTAssertNil(Int(bootArgument: Array("-".utf8)))
    }

    /// `--dns`'s lists: what the tool lets through, the unikernel reads; what it refuses, the unikernel would have refused.
    func testNameServerListsTheToolPassesTheRuntimeReads() {
        let texts = ["", "10.0.2.3", "10.0.2.2:5353", "10.0.2.2:5353, [2001:db8::53]:54,2001:db8::1", "fe80::1", "[::1]",
                     "10.0.2", "10.0.2.2:0", "10.0.2.2:65536", "[10.0.2.2]:53", "[2001:db8::1", "2001:db8::1]:53", "host.test",
                     "10.0.2.2:x", "10.0.2.3,", ",10.0.2.3", "1.2.3.4:053"]
        for text in texts {
            let tool = KeyFormat.problem(with: text, format: "name-servers") == nil
            XCTAssertEqual(tool, NameServer.list(text) != nil, "\(String(reflecting: text)): the tool says \(tool ? "yes" : "no")")
        }
    }

    /// `--hosts`'s tables likewise.
    func testHostsTablesTheToolPassesTheRuntimeReads() {
        let texts = ["", "localhost=10.0.2.2", "www.example.test=192.0.2.10,www.example.test=2001:db8::10", "a.test.=10.0.0.1",
                     "a.test", "=10.0.0.1", "a.test=", "a.test=10.0.0", "a b=10.0.0.1", "a..b=10.0.0.1", "a.test=10.0.0.1,", "a_b.test=10.0.0.1",
                     "a.test==10.0.0.1", String(repeating: "x", count: 64) + ".test=10.0.0.1", "a.test=[2001:db8::1]"]
        for text in texts {
            let tool = KeyFormat.problem(with: text, format: "hosts-table") == nil
            XCTAssertEqual(tool, DNSStubResolver.hostsTable(text) != nil, "\(String(reflecting: text)): the tool says \(tool ? "yes" : "no")")
        }
    }

    /// `--git-remote`'s URLs likewise: what the tool passes, a remote git store takes.
    func testGitURLsTheToolPassesTheRuntimeReads() {
        let texts = ["git://10.0.2.2/site.git", "git://10.0.2.2:9419/site.git", "git://[2001:db8::1]/site", "git://[2001:db8::1]:9418/a/b.git",
                     "git://git.example.test/site.git", "git://10.0.2.2", "git://10.0.2.2/", "http://10.0.2.2/site.git", "git:/10.0.2.2/site",
                     "git://10.0.2.2:0/site", "git://10.0.2.2:65536/site", "git://a b/site", "git://10.0.2.2/a b", "git://user@host/site",
                     "git://[10.0.2.2]/site", "git://host_name/site", "", "git:///site", "http://10.0.2.2:8080/site", "https://10.0.2.2/site",
                     "http://10.0.2.2"]
        for text in texts {
            let tool = KeyFormat.problem(with: text, format: "git-url") == nil
            let runtime = NetworkURL(text).map { ($0.scheme == "git" || $0.scheme == "http") && $0.target != "/" } ?? false
            XCTAssertEqual(tool, runtime, "\(String(reflecting: text)): the tool says \(tool ? "yes" : "no")")
        }
    }

    /// A boot test's host-name-server becomes a resolv.conf line that QEMU
    /// reads in a mount namespace of its own: only an IP address may (no
    /// other text of a test's file reaches a file's lines), and the host's
    /// /etc/resolv.conf is what it was.
    func testQemusUpstreamNameServerIsAnAddressSeenOnlyInQemusMountNamespace() throws {
        XCTAssertEqual(try Runner.resolvConf(naming: "127.77.0.3"), "nameserver 127.77.0.3\n")
        XCTAssertEqual(try Runner.resolvConf(naming: "2001:db8::53"), "nameserver 2001:db8::53\n")
        for bad in ["", "ns.example.test", "127.0.0.1\nnameserver 192.0.2.1", "127.0.0.1 ", "10.0.2", "[::1]"] {
            XCTAssertThrowsError(try Runner.resolvConf(naming: bad), String(reflecting: bad)) { error in
                XCTAssertTrue("\(error)".contains("is not an IP address"), "\(error)")
            }
        }
        guard getuid() == 0 else { throw XCTSkip("a mount namespace needs root") }
        let hosts = try String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)
        let file = try Fixtures.temporaryFolder().appendingPathComponent("resolv.conf")
        try Runner.resolvConf(naming: "127.77.0.3").write(to: file, atomically: true, encoding: .utf8)
        let (program, arguments) = try Runner.inMountNamespace(URL(fileURLWithPath: "/bin/cat"), ["/etc/resolv.conf"], binding: file, over: "/etc/resolv.conf")
        let result = try Shell.run(program, arguments, timeout: 30)
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(result.output, "nameserver 127.77.0.3\n")
        XCTAssertEqual(try String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8), hosts)
    }

    func keysOfHello() throws -> [ResolvedKey] {
        let graph = Fixtures.graph([defaultConsole, defaultClock],
                                   keys: [Fixtures.key("message", .string, "hi"), Fixtures.key("count", .int, "3", stage: .configure),
                                          Fixtures.key("verbose", .bool, "false")])
        return try Fixtures.resolve(graph, on: "virt").keys
    }

    func testRunRefusesBadBootKeysOnTheHostNamingTheKey() throws {
        let keys = try keysOfHello()
        func problem(_ arguments: [String]) -> String { errorText { _ = try Runner.bootKeyOverrides(arguments, keys: keys) } }
        XCTAssertTrue(problem(["--nosuchkey=5"]).contains("the unikernel has no key --nosuchkey"))
        XCTAssertTrue(problem(["--nosuchkey=5"]).contains("its boot-time keys are: --message, --verbose"))
        XCTAssertTrue(problem(["--count=5"]).contains("--count is fixed when the image is configured"))
        XCTAssertTrue(problem(["--verbose=maybe"]).contains("boot-time key --verbose does not take 'maybe'"))
        XCTAssertTrue(problem(["message=x"]).contains("is not --NAME=VALUE"))
        XCTAssertEqual(try Runner.bootKeyOverrides(["--verbose", "--message=a=b"], keys: keys), ["verbose": "true", "message": "a=b"])
    }

    func testIntKeysAreThirtyTwoBitWholeNumbersWithinTheirRange() {
        XCTAssertNil(KeyValues.problem(with: "2147483647", type: .int, minimum: nil, maximum: nil, choices: nil))
        XCTAssertNotNil(KeyValues.problem(with: "2147483648", type: .int, minimum: nil, maximum: nil, choices: nil), "an Int on ARM is 32 bits")
        XCTAssertNotNil(KeyValues.problem(with: "+5", type: .int, minimum: nil, maximum: nil, choices: nil))
        XCTAssertNotNil(KeyValues.problem(with: "0", type: .int, minimum: 1, maximum: 100, choices: nil))
        XCTAssertNotNil(KeyValues.problem(with: "lax", type: .string, minimum: nil, maximum: nil, choices: ["strict", "warn"]))
        XCTAssertNil(KeyValues.problem(with: "a\t\"b\r", type: .string, minimum: nil, maximum: nil, choices: nil), "escaped, so allowed")
    }

    // MARK: Configure refuses what the build or the boot would

    func testConfigureRefusesValuesTheImageCannotHold() throws {
        let graph = Fixtures.graph([defaultConsole, defaultEntropy],
                                   keys: [Fixtures.key("count", .int, "3", stage: .configure, line: 4)])
        func problem(_ keys: [String: String]) -> String { errorText { _ = try Fixtures.resolve(graph, on: "virt", keys: keys) } }
        XCTAssertTrue(problem(["count": "4294967296"]).contains("config.swift:4: error: key 'count' does not take --count 4294967296: it is a 32-bit whole number"))
        XCTAssertTrue(problem(["count": "+5"]).contains("key 'count' does not take --count +5"))
        XCTAssertTrue(problem(["entropy-policy": "lax"]).contains("does not take --entropy-policy lax: it is one of: strict, warn"))
    }

    func testHelloRefusesACountOutsideItsRange() throws {
        let folder = try Fixtures.copy(example: "examples/hello")
        let text = errorText { _ = try Workspace(installation: Fixtures.installation, directory: folder).configure(target: "virt", keyValues: ["count": "0"]) }
        XCTAssertTrue(text.contains("config.swift:6: error: key 'count' does not take --count 0: it lies in 1...100"), text)
    }

    func testKeysWithOneSwiftNameAreAnError() throws {
        let graph = Fixtures.graph([defaultConsole], keys: [Fixtures.key("max-size", .int, "1", line: 3), Fixtures.key("maxSize", .int, "2", line: 4)])
        let text = errorText { _ = try Fixtures.resolve(graph, on: "virt") }
        XCTAssertTrue(text.contains("config.swift:4: error: keys 'max-size' (at config.swift:3) and 'maxSize' are both Keys.maxSize in Swift"), text)
    }

    /// A key named `default`, values with quotes, backslashes and control
    /// characters, a doc with a line break: the glue is still valid Swift.
    func testAwkwardKeysStillMakeValidSwift() throws {
        let awkward = "a\"b\\c\td\re\nf \u{1}"
        let keys = [
            KeyDeclaration(name: "default", doc: "two\nlines", type: .string, stage: .configure, defaultValue: awkward,
                           location: SourceLocation(file: "config.swift", line: 3)),
            Fixtures.key("class", .string, awkward),
        ]
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole], keys: keys), on: "virt")
        let glue = try GlueEmitter(configuration: configuration, drivers: Fixtures.drivers).source()
        XCTAssertTrue(glue.contains("static let `default`: String = \"a\\\"b\\\\c\\td\\re\\nf \\u{1}\""), glue)
        XCTAssertTrue(glue.contains("Keys.`class` = Runtime.bootKey(bootArguments, \"class\", default: Keys.`class`)"), glue)
        // Only the syntax can be checked on the host: the runtime's types are the image's.
        let file = try Fixtures.temporaryFolder().appendingPathComponent("main.swift")
        try glue.write(to: file, atomically: true, encoding: .utf8)
        let parsed = try Fixtures.run("swiftc", ["-parse", file.path])
        XCTAssertEqual(parsed.status, 0, parsed.error)
    }

    func evaluate(_ config: String, timeout: Double = 60) throws -> (ConfigLoader, String) {
        let folder = try Fixtures.temporaryFolder()
        try config.write(to: folder.appendingPathComponent("config.swift"), atomically: true, encoding: .utf8)
        var loader = ConfigLoader(installation: Fixtures.installation, directory: folder)
        loader.evaluationTimeout = timeout
        return (loader, errorText { _ = try loader.load() })
    }

    func testDSLRefusesNamesTheGeneratedSwiftCannotUse() throws {
        let (_, device) = try evaluate("""
        import MirageConfig
        let main = Job("Hello", needs: .console)
        register("hello", main(pl011Console(name: "class")))
        """)
        XCTAssertTrue(device.contains("config.swift:3: error: 'class' is a Swift keyword, so it cannot name a device"), device)
        let (_, job) = try evaluate("""
        import MirageConfig
        let main = Job("my job", needs: .console)
        register("hello", main(defaultConsole))
        """)
        XCTAssertTrue(job.contains("config.swift:2: error: 'my job' is not a Swift type name"), job)
        let (_, twice) = try evaluate("""
        import MirageConfig
        let main = Job("Hello", needs: .console)
        register("hello", main(defaultConsole))
        register("again", main(defaultConsole))
        """)
        XCTAssertTrue(twice.contains("config.swift:4: error: register is called a second time (the first is at config.swift:3)"), twice)
    }

    // MARK: Nothing hangs

    func testConfigThatNeverEndsIsStoppedWithAClearError() throws {
        let (loader, text) = try evaluate("""
        import MirageConfig
        while true {}
        """, timeout: 3)
        XCTAssertTrue(text.contains("config.swift:1: error: config.swift ran for 3 s without finishing, and was stopped"), text)
        XCTAssertEqual(processes(containing: loader.directory.path), [], "the evaluation must not outlive the tool")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: loader.directory.appendingPathComponent("_build/cache").path)
        XCTAssertEqual(leftovers, [], "no temporary program or graph is left behind")
    }

    /// `configure --help` evaluates config.swift once: one that never ends
    /// costs one time limit, then the help comes with the reason (it used to
    /// be evaluated again for every part of the help, without end).
    func testHelpForAConfigThatNeverEndsComesAfterOneTimeLimit() throws {
        try requireSystemTests()
        let folder = try Fixtures.temporaryFolder()
        try "import MirageConfig\nwhile true {}\n".write(to: folder.appendingPathComponent("config.swift"), atomically: true, encoding: .utf8)
        // A 10 s limit instead of 60 (MIRAGE_CONFIG_TIMEOUT): the same path, a minute sooner.
        let help = try ToolRun(["configure", "--help"], in: folder, environment: ["MIRAGE_CONFIG_TIMEOUT": "10"])
        let started = Date()
        let status = help.finish(seconds: 200)
        XCTAssertNotNil(status, "configure --help ended")
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "one evaluation's time limit (10 s), not several")
        XCTAssertTrue(help.output.contains("--target"), help.output)
        XCTAssertTrue(help.output.contains("without finishing") && help.output.contains("10 s"), help.output)
        XCTAssertEqual(processes(containing: folder.path), [], "the evaluation must not outlive the tool")
    }

    func testATimeLimitThatIsNotANumberOfSecondsIsRefused() throws {
        try requireSystemTests()
        let folder = try Fixtures.copy(example: "examples/hello")
        let configure = try ToolRun(["configure", "--target", "virt"], in: folder, environment: ["MIRAGE_CONFIG_TIMEOUT": "soon"])
        XCTAssertEqual(configure.finish(seconds: 200), 1)
        XCTAssertTrue(configure.output.contains("MIRAGE_CONFIG_TIMEOUT=soon is not a number of seconds from 1 to 3600"), configure.output)
    }

    /// A boot path the board's emulation cannot take is refused at once, not after the time limit.
    func testAnSDCardBootOnABoardWhoseBootROMQemuLacksIsRefusedAtOnce() throws {
        try requireSystemTests()
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello"))
        _ = try workspace.configure(target: "cubieboard")
        let text = errorText { _ = try Runner(workspace: workspace).command(Runner.BootRequest(bootLoader: .sdCard), for: .boot) }
        XCTAssertTrue(text.contains("does not emulate its boot ROM, so it cannot boot from an SD card here"), text)
        XCTAssertTrue(text.contains("mirage-config image --format sdcard"), text)
    }

    // MARK: run checks what it boots

    func testRunRefusesAnImageBuiltForAnotherConfiguration() throws {
        try requireSystemTests()
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello"))
        _ = try workspace.configure(target: "virt")
        _ = try Builder(workspace: workspace).build()
        XCTAssertNoThrow(try Runner(workspace: workspace).command(Runner.BootRequest(), for: .query))
        _ = try workspace.configure(target: "cubieboard")
        let text = errorText { _ = try Runner(workspace: workspace).command(Runner.BootRequest(), for: .boot) }
        XCTAssertTrue(text.contains("dist/hello.elf was not built from the current configuration for cubieboard (it was built for virt"), text)
        XCTAssertTrue(text.contains("fix: run: mirage-config build"), text)

        // A failed build is remembered, so run can say it boots the last good image.
        try "struct Hello { static func start(console: some Console, clock: some Clock) -> Int32 { nope } }\n"
            .write(to: workspace.directory.appendingPathComponent("unikernel.swift"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Builder(workspace: workspace).build())
        XCTAssertNotNil(Builder(workspace: workspace).lastFailure())

        // A corrupt device tree is named, with the way to make it again.
        _ = try workspace.configure(target: "virt")
        try Data(repeating: 0x55, count: 64).write(to: workspace.deviceTreeBlob)
        let corrupt = errorText { _ = try Runner(workspace: workspace).command(Runner.BootRequest(bootArguments: ["--message=x"]), for: .boot) }
        XCTAssertTrue(corrupt.contains("board.dtb is missing or not a valid device tree"), corrupt)
        XCTAssertTrue(corrupt.contains("configure again"), corrupt)
    }

    func testBootArgumentsLargerThanTheDeviceTreeRegionAreRefused() throws {
        try requireSystemTests()
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello"))
        _ = try workspace.configure(target: "vexpress-a9")
        _ = try Builder(workspace: workspace).build()
        let huge = "--message=" + String(repeating: "x", count: 70_000)
        let text = errorText { _ = try Runner(workspace: workspace).command(Runner.BootRequest(bootArguments: [huge]), for: .boot) }
        XCTAssertTrue(text.contains("larger than the 65536-byte dtb region of targets/vexpress-a9.yaml"), text)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: workspace.buildDirectory.path).filter { $0.hasPrefix("run-") }, [])
    }

    // MARK: The console is byte-exact

    func testConsoleBytesPassThroughUnchanged() throws {
        // A stand-in for qemu that splits a UTF-8 character across two writes.
        let script = try Fixtures.temporaryFolder().appendingPathComponent("fake-qemu")
        try "#!/bin/sh\nprintf 'Gr\\303'\nsleep 0.2\nprintf '\\274\\303\\237e\\n\\377'\nexit 7\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let echoed = DataBox()
        let outcome = try Runner.boot(script, [], timeout: 10) { echoed.data.append($0) }
        XCTAssertEqual(Array(echoed.data), Array("Grüße\n".utf8) + [0xFF], "every byte, as it came")
        XCTAssertEqual(outcome.status, 7)
        XCTAssertTrue(outcome.console.hasPrefix("Grüße\n"), outcome.console)
    }

    // MARK: Outputs are a function of the inputs

    func testTwoFoldersGiveTheSameImage() throws {
        try requireSystemTests()
        var images: [Data] = [], trees: [Data] = []
        for _ in 0..<2 {
            let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/uses-package"))
            // The package is found relative to config.swift.
            let config = workspace.directory.appendingPathComponent("config.swift")
            let package = Fixtures.installation.root.appendingPathComponent("examples/packages/watchdog").path
            try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "../packages/watchdog", with: package)
                .write(to: config, atomically: true, encoding: .utf8)
            _ = try workspace.configure(target: "vexpress-a9")
            images.append(try Data(contentsOf: XCTUnwrap(try Builder(workspace: workspace).build().rawImage)))
            trees.append(try Data(contentsOf: workspace.deviceTreeBlob))
        }
        XCTAssertEqual(images[0], images[1], "an image must not depend on the folder it was built in")
        XCTAssertEqual(trees[0], trees[1])
    }

    func testTwoConfiguresAtOnceOnAColdFolder() throws {
        let folder = try Fixtures.copy(example: "examples/hello")
        let errors = DataBox()
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do {
                _ = try Workspace(installation: Fixtures.installation, directory: folder).configure(target: index == 0 ? "virt" : "vexpress-a9")
            } catch {
                lock.lock()
                errors.data.append(Data("\(error)\n".utf8))
                lock.unlock()
            }
        }
        XCTAssertEqual(String(decoding: errors.data, as: UTF8.self), "")
    }

    // MARK: Environment

    func testUnwritableCacheSaysWhichFolderAndHowToChooseAnother() throws {
        let previous = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]
        setenv("XDG_CACHE_HOME", "/proc/no-cache-here", 1)
        defer { if let previous { setenv("XDG_CACHE_HOME", previous, 1) } else { unsetenv("XDG_CACHE_HOME") } }
        let (_, text) = try evaluate("import MirageConfig\nregister(\"x\", Job(\"X\", needs: .console)(defaultConsole))\n")
        XCTAssertTrue(text.contains("cannot write the DSL cache folder /proc/no-cache-here/mirage-config"), text)
        XCTAssertTrue(text.contains("XDG_CACHE_HOME="), text)
    }

    func testDSLCacheIsKeyedByInstallation() throws {
        let other = try Fixtures.temporaryFolder()
        for folder in ["Sources", "targets", "qemu", "toolchains"] {
            try FileManager.default.createSymbolicLink(at: other.appendingPathComponent(folder),
                                                       withDestinationURL: Fixtures.installation.root.appendingPathComponent(folder))
        }
        let here = ConfigLoader(installation: Fixtures.installation, directory: other)
        let there = ConfigLoader(installation: Installation(root: other), directory: other)
        XCTAssertNotEqual(try here.dslHash(), try there.dslHash())
    }

    func testFolderWithACommaBoots() throws {
        try requireSystemTests()
        let parent = try Fixtures.temporaryFolder().appendingPathComponent("a,b c'd")
        let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "examples/hello", into: parent))
        _ = try workspace.configure(target: "virt", keyValues: ["count": "1"])
        _ = try Builder(workspace: workspace).build()
        let outcome = try Runner(workspace: workspace).run(Runner.BootRequest(bootArguments: ["--message=comma"], timings: true), timeout: 60) { _ in }
        XCTAssertTrue(outcome.console.contains("Hello from virt: comma (1/1)"), outcome.console)
        // run --timings: the Cortex-A15's cycle counter, from reset to the job, and the host's clock.
        XCTAssertGreaterThan(try XCTUnwrap(Runner.cyclesToJob(in: outcome.console)), 0)
        XCTAssertNotNil(outcome.secondsToFirstOutput)
        XCTAssertNil(Runner.cyclesToJob(in: "mirage: 0 cycles from reset to the job\n"), "0: no counter, not no time")
        // The dry run's line survives a shell.
        let line = try Runner(workspace: workspace).command(Runner.BootRequest(), for: .dryRun).shellLine
        let echoed = try Fixtures.run("sh", ["-c", "set -- \(line); for a; do printf '%s\\n' \"$a\"; done"])
        XCTAssertTrue(echoed.output.contains(workspace.image("hello").path), echoed.output)
    }

    /// A folder whose name holds every byte the generated files must escape
    /// (Swift, assembly, linker script, ninja, device tree, boot script,
    /// shell): a quote, a backslash, an apostrophe, a dollar, a space, a
    /// comma and a newline. examples/kv embeds a folder (crunch: .incbin)
    /// and boots directly and through real U-Boot.
    func testAFolderWithEveryAwkwardByteBuildsAndBoots() throws {
        try requireSystemTests()
        let parent = try Fixtures.temporaryFolder().appendingPathComponent("q\"b\\a'd $x,y z\nw")
        let folder = try Fixtures.copy(example: "examples/kv", into: parent)
        try FileManager.default.copyItem(at: Fixtures.installation.root.appendingPathComponent("examples/kv/htdocs"),
                                         to: folder.appendingPathComponent("htdocs"))
        let workspace = Workspace(installation: Fixtures.installation, directory: folder)
        _ = try workspace.configure(target: "virt", keyValues: [:])
        _ = try Builder(workspace: workspace).build()
        let direct = try Runner(workspace: workspace).run(timeout: 120) { _ in }
        XCTAssertTrue(direct.console.contains("hello.txt (30 bytes): Hello from a key-value store."), direct.console)
        let uBoot = try Runner(workspace: workspace).run(Runner.BootRequest(bootLoader: .uBoot), timeout: 180) { _ in }
        XCTAssertTrue(uBoot.console.contains("hello.txt (30 bytes)"), uBoot.console)
        let build = try String(contentsOf: workspace.buildDirectory.appendingPathComponent("build.ninja"), encoding: .utf8)
        XCTAssertFalse(build.contains(folder.path), "build.ninja names the unikernel's files relative to _build/")
    }

    /// Random text as a boot-time key arrives byte for byte on every boot
    /// path: direct, real U-Boot over TFTP (virt), and from an SD card
    /// through the H3's boot ROM, SPL and U-Boot (orangepi-pc). The keys go
    /// in the device tree's /chosen/bootargs, never through U-Boot's shell.
    func testRandomBootValuesArriveWholeOnEveryBootPath() throws {
        try requireSystemTests()
        var generator = SystemRandomNumberGenerator()
        // Quotes, backslashes, dollars, tabs, controls, and beyond ASCII: the bytes a shell would take apart.
        let alphabet = Array("\"'\\$`;&| \t\r\u{1}\u{1f}\u{7f}{}()=-,.aZ9éß世界🙂".unicodeScalars)
        func randomValue(_ count: Int) -> String {
            String(String.UnicodeScalarView((0..<count).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }
        for (board, loader) in [("virt", Runner.BootLoader.direct), ("virt", .uBoot), ("orangepi-pc", .sdCard)] {
            let workspace = Workspace(installation: Fixtures.installation, directory: try Fixtures.copy(example: "Tests/Fixtures/boot-arguments"))
            _ = try workspace.configure(target: board, keyValues: [:])
            _ = try Builder(workspace: workspace).build()
            for length in [7, 1500] {
                let value = randomValue(length)
                let outcome = try Runner(workspace: workspace).run(Runner.BootRequest(bootArguments: ["--value=" + value], bootLoader: loader), timeout: 240) { _ in }
                XCTAssertTrue(outcome.console.contains("value: " + hex(value) + "\n"),
                              "\(board) \(loader.rawValue), \(length) characters: \(outcome.console.suffix(400))")
            }
            // Longer than the device tree region holds with U-Boot's room: refused on the host, at once.
            let huge = String(repeating: "x", count: 70_000)
            XCTAssertThrowsError(try Runner(workspace: workspace).run(Runner.BootRequest(bootArguments: ["--value=" + huge], bootLoader: loader), timeout: 60) { _ in }) {
                XCTAssertTrue("\($0)".contains("dtb region"), "\($0)")
            }
        }
    }

    func testShellQuotingSurvivesTheShell() throws {
        for word in ["plain", "two words", "it's", "$HOME", "a,b", "back\\slash", "\"q\"", ""] {
            let echoed = try Fixtures.run("sh", ["-c", "printf '%s' \(shellQuoted(word))"])
            XCTAssertEqual(echoed.output, word)
        }
    }

    // MARK: Small ones

    func testBootTestFileWithAnUnknownFieldOrNoTestsIsAnError() throws {
        let folder = try Fixtures.temporaryFolder()
        let file = folder.appendingPathComponent(BootTestSpec.fileName)
        try "tests:\n  - name: a\n    expect: [x]\n    exit_status: 0\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertTrue(errorText { _ = try BootTestSpec.load(from: folder) }.contains("unknown field 'exit_status' in tests[0]"))
        try "timeout: 5\ntests: []\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertTrue(errorText { _ = try BootTestSpec.load(from: folder) }.contains("has no tests"))
        try "timeot: 5\ntests: []\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertTrue(errorText { _ = try BootTestSpec.load(from: folder) }.contains("unknown field 'timeot'"))
    }

    func testEveryCommandTakesADirectoryAndRunRefusesABadTimeout() throws {
        let (_, help) = try ToolRun.run(["--help"])
        let commands = ["configure", "build", "run", "test", "describe", "query", "inspect", "clean", "doctor"]
        for command in commands {
            XCTAssertTrue(help.contains(command), "\(command) is listed")
            let (status, text) = try ToolRun.run([command, "--help"])
            XCTAssertEqual(status, 0, text)
            XCTAssertTrue(text.contains("-C, --directory"), "\(command) takes -C DIR: \(text)")
        }
        for bad in ["-5", "nan", "inf"] {
            let (status, text) = try ToolRun.run(["run", "--timeout=\(bad)"])
            XCTAssertNotEqual(status, 0)
            XCTAssertTrue(text.contains("--timeout must be a number of seconds greater than 0"), text)
        }
    }
}
