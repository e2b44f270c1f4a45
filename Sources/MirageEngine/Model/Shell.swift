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

/// FNV-1a, 64 bits: a content hash for cache keys (not for security).
public struct ContentHash {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ data: Data) {
        for byte in data {
            state ^= UInt64(byte)
            state = state &* 0x100_0000_01b3
        }
        mixSeparator()
    }

    public mutating func add(_ text: String) { add(Data(text.utf8)) }

    /// Ends one input, so that "ab"+"c" and "a"+"bc" hash differently.
    private mutating func mixSeparator() {
        state ^= 0xff
        state = state &* 0x100_0000_01b3
    }

    public var hex: String { String(format: "%016llx", state) }
}

extension FileManager {
    func createFolder(_ url: URL) throws {
        try createDirectory(at: url, withIntermediateDirectories: true)
    }
}

/// Writes `text` to `url` only if it differs, so unchanged outputs keep their dates.
@discardableResult
func writeIfChanged(_ text: String, to url: URL) throws -> Bool {
    try writeIfChanged(Data(text.utf8), to: url)
}

/// Writes `data` to `url` only if it differs.
@discardableResult
func writeIfChanged(_ data: Data, to url: URL) throws -> Bool {
    if let existing = try? Data(contentsOf: url), existing == data { return false }
    try FileManager.default.createFolder(url.deletingLastPathComponent())
    try data.write(to: url, options: .atomic)
    return true
}
