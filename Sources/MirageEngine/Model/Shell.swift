import Foundation

/// Runs programs and captures what they print.
public enum Shell {
    public struct Result {
        public let status: Int32
        /// Standard output as bytes (a value read from a disk image, say).
        public let outputData: Data
        public var output: String { String(decoding: outputData, as: UTF8.self) }
        public let error: String
        /// Stopped at its time limit (status is then 124).
        public var timedOut = false
    }

    /// Runs `executable` with `arguments` and waits, at most `timeout`
    /// seconds: then its whole process group is ended. Never throws for a
    /// non-zero status (callers decide what it means).
    @discardableResult
    /// `echo`, if given, gets standard output as it comes.
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:], timeout: Double = 600,
                           echo: ((String) -> Void)? = nil) throws -> Result {
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
        readers.enter()
        DispatchQueue.global().async {
            errorData.data = error.fileHandleForReading.readDataToEndOfFile()
            readers.leave()
        }
        readers.enter()
        DispatchQueue.global().async {
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                outputData.data.append(chunk)
                echo?(String(decoding: chunk, as: UTF8.self))
            }
            readers.leave()
        }
        let timedOut = ChildProcesses.wait(for: process, timeout: timeout)
        readers.wait()
        var result = Result(status: timedOut ? 124 : process.terminationStatus, outputData: outputData.data,
                            error: String(decoding: errorData.data, as: UTF8.self))
        result.timedOut = timedOut
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
