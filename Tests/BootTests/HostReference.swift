import Foundation
import XCTest

/// Programs this project did not write, run on the host as references for
/// the runtime: Python with pyca/cryptography (over OpenSSL), littlefs-python
/// and Wycheproof's vectors, from the virtual environment scripts/setup makes
/// in .build/python.
enum HostReference {
    static let packageRoot: URL = {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { root.deleteLastPathComponent() }
        return root
    }()

    /// The virtual environment's python3, after checking that it can import
    /// `module`. Skips the test (fails it, in the system tests) when not.
    static func python(with module: String) throws -> String {
        let python = packageRoot.appendingPathComponent(".build/python/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: python), try run(python, ["-c", "import \(module)"]).status == 0 else {
            if ProcessInfo.processInfo.environment["MIRAGE_SYSTEM_TESTS"] == "1" { XCTFail("Python's \(module) is missing: run scripts/setup") }
            throw XCTSkip("Python's \(module) is not installed in .build/python (scripts/setup installs it)")
        }
        return python
    }

    /// Runs `script` with `lines` on its standard input, one case a line, and
    /// returns its output lines.
    static func python(_ script: String, lines: [String], needs module: String = "cryptography") throws -> [String] {
        let result = try run(python(with: module), ["-c", script], input: Data((lines.joined(separator: "\n") + "\n").utf8))
        XCTAssertEqual(result.status, 0, "the reference script failed")
        return String(decoding: result.output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Runs a program to its end with `input` on its standard input; its
    /// output, with its standard error after it if `withErrors`.
    @discardableResult
    /// `keepingInputOpen`: standard input stays open until the program ends
    /// (gnutls-cli stops reading the server when its input ends).
    static func run(_ executable: String, _ arguments: [String], input: Data = Data(), withErrors: Bool = false,
                    keepingInputOpen: Bool = false) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        if withErrors { process.standardError = stdout }
        try process.run()
        // Written from another thread so that a large output cannot block the writer.
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            if !keepingInputOpen { try? stdin.fileHandleForWriting.close() }
        }
        writer.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if keepingInputOpen { try? stdin.fileHandleForWriting.close() }
        return (process.terminationStatus, data)
    }
}
