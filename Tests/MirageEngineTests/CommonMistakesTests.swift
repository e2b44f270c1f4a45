import Foundation
@testable import MirageEngine
import XCTest

/// Every subcommand against the mistakes people make with paths: a folder
/// where a file is expected, a file where a folder is, /dev/null, a missing
/// path, a folder that cannot be written, a path with a quote. Each must end
/// with a short error that says what to do and a non-zero status; never a
/// crash, a backtrace, a Foundation error dump, or a changed input.
final class CommonMistakesTests: XCTestCase {
    /// The paths a person may give by mistake, in a scratch folder.
    struct Mistakes {
        let folder: URL
        var aFolder: String { folder.appendingPathComponent("a-folder").path }
        var aFile: String { folder.appendingPathComponent("a-file").path }
        var missing: String { folder.appendingPathComponent("missing/thing").path }
        var quoted: String { folder.appendingPathComponent("it's \"quoted\"").path }
        /// As root every folder is writable; /proc refuses new files to anyone.
        var unwritable: String { "/proc/mirage-config-test/out" }
        var all: [String] { [aFolder, aFile, "/dev/null", missing, unwritable, quoted] }

        init() throws {
            folder = try Fixtures.temporaryFolder()
            try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("a-folder").path, withIntermediateDirectories: true)
            try Data("not an image".utf8).write(to: folder.appendingPathComponent("a-file"))
            try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("it's \"quoted\"").path, withIntermediateDirectories: true)
        }
    }

    /// The commands, with `@` where the mistaken path goes.
    static let commands: [[String]] = [
        ["configure", "-C", "@"], ["build", "-C", "@"], ["run", "-C", "@"], ["test", "-C", "@"], ["describe", "-C", "@"],
        ["query", "qemu", "-C", "@"], ["image", "-C", "@"], ["clean", "-C", "@"], ["doctor", "-C", "@"], ["inspect", "@"],
        ["kv", "ls", "@"], ["kv", "get", "@", "key"], ["kv", "put", "@", "key", "@"], ["kv", "pack", "@", "-o", "@"],
        ["flash", "@", "--device", "@"],
    ]

    func testEveryCommandSaysWhatIsWrongWithAMistakenPath() throws {
        try requireSystemTests()
        let mistakes = try Mistakes()
        let nullBefore = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        var problems: [String] = []
        for command in CommonMistakesTests.commands {
            for path in mistakes.all {
                // doctor takes any folder (it checks the machine): only a path that is no folder is a mistake.
                if command.first == "doctor", path == mistakes.aFolder || path == mistakes.quoted { continue }
                let arguments = command.map { $0 == "@" ? path : $0 }
                let (status, output) = try ToolRun.run(arguments, in: mistakes.folder)
                let shown = "mirage-config \(arguments.joined(separator: " ")) -> \(status.map(String.init) ?? "still running"): \(output)"
                if status == 0 || status == nil { problems.append("succeeded: " + shown) }
                for sign in ["Fatal error", "NSCocoaErrorDomain", "Error Domain=", "Backtrac", "Program crashed", "Stack dump"]
                where output.contains(sign) {
                    problems.append("\(sign): " + shown)
                }
                if !output.contains("error:") || !output.contains("fix:") { problems.append("no error with a fix: " + shown) }
                if output.split(separator: "\n").count > 4 { problems.append("more than an error and its fix: " + shown) }
            }
        }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType, nullBefore,
                       "/dev/null is still what it was")
        XCTAssertFalse(FileManager.default.fileExists(atPath: mistakes.aFolder + "/_build"), "nothing was written into a folder that is no unikernel's")
    }
}

/// The checks behind those answers, each on its own.
final class InputCheckTests: XCTestCase {
    func testPackingFollowsLinksInsideAndRefusesLinksOut() throws {
        let folder = try Fixtures.temporaryFolder()
        let files = folder.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try Data("inside".utf8).write(to: files.appendingPathComponent("real.txt"))
        try FileManager.default.createSymbolicLink(atPath: files.appendingPathComponent("alias.txt").path, withDestinationPath: "real.txt")
        XCTAssertEqual(link(files.appendingPathComponent("real.txt").path, files.appendingPathComponent("hard.txt").path), 0)
        let archive = folder.appendingPathComponent("out.tar")
        try Fixtures.drivers.driver("kv-tar").pack(files, into: archive, installation: Fixtures.installation)
        let listing = try Shell.run(URL(fileURLWithPath: "/usr/bin/tar"), ["-tvf", archive.path]).output
        for name in ["./alias.txt", "./hard.txt", "./real.txt"] {
            XCTAssertTrue(listing.split(separator: "\n").contains { $0.hasPrefix("-") && $0.hasSuffix(name) }, "\(name) a regular member:\n\(listing)")
        }
        try FileManager.default.createSymbolicLink(atPath: files.appendingPathComponent("secret").path, withDestinationPath: "/etc/passwd")
        XCTAssertThrowsError(try Fixtures.drivers.driver("kv-tar").pack(files, into: archive, installation: Fixtures.installation)) {
            XCTAssertTrue("\($0)".contains("secret is a link to /etc/passwd, outside"), "\($0)")
        }
    }

    func testAddressKeysMustBeUsable() {
        XCTAssertNil(KeyFormat.problem(with: "10.0.2.15/24", format: "ipv4-host-or-dhcp"))
        XCTAssertNil(KeyFormat.problem(with: "dhcp", format: "ipv4-host-or-dhcp"))
        XCTAssertNil(KeyFormat.problem(with: "10.0.0.1/31", format: "ipv4-host-or-dhcp"), "a point-to-point /31 has no network address")
        for bad in ["10.0.2.0/24", "10.0.2.255/24", "0.0.0.0/0", "10.0.2.15", "10.0.2.15/33", "dhcp6"] {
            XCTAssertNotNil(KeyFormat.problem(with: bad, format: "ipv4-host-or-dhcp"), bad)
        }
        XCTAssertNil(KeyFormat.problem(with: "2001:db8::5/64", format: "ipv6-setting"))
        XCTAssertNotNil(KeyFormat.problem(with: "2001:db8::5", format: "ipv6-setting"))
        XCTAssertNotNil(KeyFormat.problem(with: "1.2.3.4", format: "ipv6-address-or-empty"))
        let keys: [(name: String, format: String?, value: String)] = [("ipv4", "ipv4-host-or-dhcp", "10.0.2.15/24"),
                                                                       ("ipv4-gateway", "ipv4-gateway-of:ipv4", "10.0.3.1")]
        XCTAssertEqual(KeyValues.relationProblem(keys)?.key, "ipv4-gateway")
        XCTAssertNil(KeyValues.relationProblem([keys[0], ("ipv4-gateway", "ipv4-gateway-of:ipv4", "10.0.2.2")]))
        XCTAssertNil(KeyValues.relationProblem([("ipv4", nil, "dhcp"), keys[1]]))
    }

    func testATrapInConfigSwiftIsItsLineAndMessage() {
        let text = "UnikernelConfig/config.swift:4: Fatal error: Unexpectedly found nil while unwrapping an Optional value\n"
        XCTAssertEqual(ConfigLoader.trapped(text)?.line, 4)
        XCTAssertEqual(ConfigLoader.trapped(text)?.message, "Unexpectedly found nil while unwrapping an Optional value")
        XCTAssertNil(ConfigLoader.trapped("config.swift:3: error: something else"))
    }

    func testLeftoversAreRecognisedByTheirProcessNumber() {
        XCTAssertEqual(Workspace.processNumber(inTemporaryName: "run-4242.dtb"), 4242)
        XCTAssertEqual(Workspace.processNumber(inTemporaryName: "blkdebug-77-data.cfg"), 77)
        XCTAssertEqual(Workspace.processNumber(inTemporaryName: "tftp-9"), 9)
        XCTAssertEqual(Workspace.processNumber(inTemporaryName: "data-123.img"), 123)
        XCTAssertNil(Workspace.processNumber(inTemporaryName: "board.dtb"))
        XCTAssertNil(Workspace.processNumber(inTemporaryName: "dry-run.dtb"))
    }
}
