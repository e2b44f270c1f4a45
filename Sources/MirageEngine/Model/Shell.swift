import Foundation

/// Runs a program and captures what it prints: the one way the tool runs
/// a program and waits for it (the compilers, mkimage, tar, qemu for a boot).
/// Every child starts through `ChildProcesses`, so it ends with the tool.
public enum Shell {
    public struct Result {
        public let status: Int32
        /// Standard output as bytes (a value read from a disk image, say);
        /// with `mergingErrors`, standard error's bytes too, in the order written.
        public let outputData: Data
        public var output: String { String(decoding: outputData, as: UTF8.self) }
        public let error: String
        /// Stopped at its time limit (status is then 124).
        public var timedOut = false
        /// From the start to the end, and to the first byte of output.
        public var seconds: Double = 0
        public var secondsToFirstOutput: Double?
    }

    /// Runs `executable` with `arguments` and waits, at most `timeout`
    /// seconds: then its whole process group is ended. Never throws for a
    /// non-zero status (callers decide what it means). `mergingErrors`: one
    /// pipe for standard output and error, as a console is; `echo` gets the
    /// output's bytes as they come.
    @discardableResult
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:], timeout: Double = 600, mergingErrors: Bool = false,
                           echo: ((Data) -> Void)? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe(), error = mergingErrors ? output : Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        do { try ChildProcesses.start(process) } catch {
            throw MirageError("cannot run \(executable.path): \(error.localizedDescription)")
        }
        defer { ChildProcesses.forget(process) }
        // Read both pipes concurrently so that neither fills and blocks the child.
        let errorData = DataBox(), outputData = DataBox()
        let readers = DispatchGroup()
        if !mergingErrors {
            readers.enter()
            DispatchQueue.global().async {
                errorData.data = error.fileHandleForReading.readDataToEndOfFile()
                readers.leave()
            }
        }
        readers.enter()
        DispatchQueue.global().async {
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                if outputData.data.isEmpty { outputData.firstArrival = Date() }
                outputData.data.append(chunk)
                echo?(chunk)
            }
            readers.leave()
        }
        let timedOut = ChildProcesses.wait(for: process, timeout: timeout)
        readers.wait()
        // Ended by a signal: 128 + its number, as a shell says it.
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        var result = Result(status: timedOut ? 124 : status, outputData: outputData.data,
                            error: String(decoding: errorData.data, as: UTF8.self))
        result.timedOut = timedOut
        result.seconds = Date().timeIntervalSince(started)
        result.secondsToFirstOutput = outputData.firstArrival.map { $0.timeIntervalSince(started) }
        return result
    }
}

/// `word` as a POSIX shell reads it back: as it is when plain, else in single quotes.
public func shellQuoted(_ word: String) -> String {
    let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
        $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_./=,:@+%".unicodeScalars.contains($0))
    }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Holds what a reader thread collected until the caller takes it.
final class DataBox: @unchecked Sendable {
    var data = Data()
    /// When the first data came, for who wants it.
    var firstArrival: Date?
}
