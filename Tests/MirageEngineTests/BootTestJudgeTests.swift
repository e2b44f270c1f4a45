@testable import MirageEngine
import XCTest

final class BootTestJudgeTests: XCTestCase {
    let markers = ["*** FAULT: ", "FATAL: "]

    func outcome(_ console: String, status: Int32 = 0, timedOut: Bool = false) -> Runner.Outcome {
        Runner.Outcome(status: status, timedOut: timedOut, console: console, seconds: 0.1)
    }

    func testCase(_ expect: [String], status: Int32? = nil) -> BootTestSpec.Case {
        BootTestSpec.Case(name: "t", expect: expect, exitStatus: status)
    }

    func testPassesWhenLinesAppearInOrder() {
        let verdict = BootTestJudge.judge(testCase(["Hello from {board}", "Goodbye"]), board: "virt",
                                          outcome: outcome("boot\nHello from virt: hi\nGoodbye after 3 ms\n"), faultMarkers: markers, timeout: 5)
        XCTAssertEqual(verdict, "")
    }

    func testFailsOnLinesOutOfOrder() {
        let verdict = BootTestJudge.judge(testCase(["Goodbye", "Hello"]), board: "virt",
                                          outcome: outcome("Hello\nGoodbye\n"), faultMarkers: markers, timeout: 5)
        XCTAssertTrue(verdict.contains("expected line not seen (in order): \"Hello\""), verdict)
    }

    func testFailsOnFaultMarkerEvenWithGoodStatus() {
        let verdict = BootTestJudge.judge(testCase(["Hello"]), board: "virt",
                                          outcome: outcome("Hello\n*** FAULT: data abort at pc 0x40010000\n"), faultMarkers: markers, timeout: 5)
        XCTAssertTrue(verdict.hasPrefix("fault: *** FAULT: data abort"), verdict)
    }

    func testAnExpectedFaultMustHappen() {
        let faulting = BootTestSpec.Case(name: "t", expect: ["FAULT: undefined"], exitStatus: 65, expectFault: true)
        XCTAssertEqual(BootTestJudge.judge(faulting, board: "virt", outcome: outcome("*** FAULT: undefined instruction\n", status: 65),
                                           faultMarkers: markers, timeout: 5), "")
        XCTAssertEqual(BootTestJudge.judge(faulting, board: "virt", outcome: outcome("fine\n", status: 65),
                                           faultMarkers: markers, timeout: 5), "expected a fault report, saw none")
    }

    func testFailsOnTimeoutAndWrongStatus() {
        XCTAssertTrue(BootTestJudge.judge(testCase(["Hello"]), board: "virt", outcome: outcome("Hello\n", status: 124, timedOut: true),
                                          faultMarkers: markers, timeout: 5).contains("timed out after 5 s"))
        XCTAssertEqual(BootTestJudge.judge(testCase(["Hello"]), board: "virt", outcome: outcome("Hello\n", status: 3),
                                           faultMarkers: markers, timeout: 5), "exit status 3, expected 0")
        XCTAssertEqual(BootTestJudge.judge(testCase(["Hello"], status: 3), board: "virt", outcome: outcome("Hello\n", status: 3),
                                           faultMarkers: markers, timeout: 5), "")
    }

    func testJUnitReportEscapesAndCounts() {
        let results = [
            BootTestResult(board: "virt", name: "a", passed: true, failure: "", seconds: 0.5, console: "ok <fine> & \u{1}"),
            BootTestResult(board: "cubieboard", name: "b", passed: false, failure: "expected \"x\"", seconds: 1, console: ""),
        ]
        let xml = JUnitReport.xml(suite: "hello", results: results)
        XCTAssertTrue(xml.contains("<testsuite name=\"hello\" tests=\"2\" failures=\"1\""))
        XCTAssertTrue(xml.contains("ok &lt;fine&gt; &amp; </system-out>"))
        XCTAssertTrue(xml.contains("<failure message=\"expected &quot;x&quot;\"/>"))
    }

    /// A boot loader's lines end in CRLF, which Swift holds as one Character:
    /// they must still be lines of their own.
    func testCRLFLinesAreLinesOfTheirOwn() {
        let testCase = BootTestSpec.Case(name: "crlf", expect: ["U-Boot", "Starting kernel", "Hello"], exitStatus: 0)
        let console = "U-Boot 2023.01\r\nloading\r\nStarting kernel ...\r\n\r\nHello\n"
        XCTAssertEqual(BootTestJudge.judge(testCase, board: "virt", outcome: outcome(console), faultMarkers: ["*** FAULT: "], timeout: 5), "")
    }

    /// A peer that ends before it says it is ready fails its case at once (its last
    /// lines said), instead of the boot going on without it until its time limit.
    func testAPeerThatEndsBeforeItIsReadyFailsAtOnce() throws {
        let suite = try BootTestSuite(installation: Fixtures.installation, directory: Fixtures.installation.root.appendingPathComponent("examples/hello"))
        let folder = try Fixtures.temporaryFolder()
        let peer = try suite.startPeer("echo 'git daemon did not serve repo/'; exit 3", in: folder, socket: "", tap: "", forwardPort: 0)
        let started = Date()
        XCTAssertThrowsError(try suite.waitUntilReady(peer, in: folder)) { error in
            XCTAssertTrue("\(error)".contains("the peer ended (status 3) before it said it was ready: git daemon did not serve repo/"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), BootTestSuite.peerReadyTimeout)
        let ready = try suite.startPeer("python3 -c 'import sys, os; sys.path.insert(0, os.environ[\"MIRAGE_ROOT\"] + \"/tools\"); import boot_peer; boot_peer.ready()'",
                                        in: folder, socket: "", tap: "", forwardPort: 0)
        XCTAssertNoThrow(try suite.waitUntilReady(ready, in: folder))
        ready.waitUntilExit()
    }
}
