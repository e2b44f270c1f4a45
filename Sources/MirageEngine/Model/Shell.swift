import Foundation

/// Runs programs and captures what they print.
public enum Shell {
    public struct Result {
        public let status: Int32
        public let output: String
        public let error: String
        /// Stopped at its time limit (status is then 124).
        public var timedOut = false
    }

    /// Runs `executable` with `arguments` and waits, at most `timeout`
    /// seconds: then its whole process group is ended. Never throws for a
    /// non-zero status (callers decide what it means).
    @discardableResult
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:], timeout: Double = 600) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do { try ChildProcesses.start(process) } catch {
            throw MirageError("cannot run \(executable.path): \(error.localizedDescription)")
        }
        defer { ChildProcesses.forget(process) }
        // Read both pipes concurrently so that neither fills and blocks the child.
        let errorData = DataBox(), outputData = DataBox()
        let readers = DispatchGroup()
        for (pipe, box) in [(error, errorData), (output, outputData)] {
            readers.enter()
            DispatchQueue.global().async {
                box.data = pipe.fileHandleForReading.readDataToEndOfFile()
                readers.leave()
            }
        }
        let timedOut = ChildProcesses.wait(for: process, timeout: timeout)
        readers.wait()
        var result = Result(status: timedOut ? 124 : process.terminationStatus,
                            output: String(decoding: outputData.data, as: UTF8.self),
                            error: String(decoding: errorData.data, as: UTF8.self))
        result.timedOut = timedOut
        return result
    }
}

/// Holds what a reader thread collected until the caller takes it.
final class DataBox: @unchecked Sendable {
    var data = Data()
}
