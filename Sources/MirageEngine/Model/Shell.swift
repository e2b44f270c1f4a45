import Foundation

/// Runs programs and captures what they print.
public enum Shell {
    public struct Result {
        public let status: Int32
        public let output: String
        public let error: String
    }

    /// Runs `executable` with `arguments` and waits; never throws for a
    /// non-zero status (callers decide what it means).
    @discardableResult
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:]) throws -> Result {
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
        do { try process.run() } catch {
            throw MirageError("cannot run \(executable.path): \(error.localizedDescription)")
        }
        // Read both pipes concurrently so that neither fills and blocks the child.
        let errorData = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData.data = error.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      output: String(decoding: outputData, as: UTF8.self),
                      error: String(decoding: errorData.data, as: UTF8.self))
    }
}

/// Holds what a reader thread collected until the caller takes it.
final class DataBox: @unchecked Sendable {
    var data = Data()
}
