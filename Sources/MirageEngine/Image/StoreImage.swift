import Foundation

/// The disk image of a key-value store, read and written on the host by the
/// program its store driver names (`host-tool:` in its driver.yaml: GNU tar
/// for tar stores, littlefs-python for littlefs), which is also how the
/// image is recognised. The engine knows no store format.
public struct StoreImage {
    public let file: URL
    /// The store driver whose images these are (`kv-tar`, `kv-littlefs`).
    public let driver: Driver
    let installation: Installation

    /// Recognises the image by the signature of each store driver's host tool.
    public init(_ file: URL, installation: Installation) throws {
        try requireReadableFile(file, "the disk image")
        // kv works on a disk image, not on a configured unikernel: it asks every store driver.
        let stores = try DriverCatalog(installation: installation).drivers.filter { $0.hostTool != nil }
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw MirageError("cannot read the disk image \(displayPath(file.path))")
        }
        defer { try? handle.close() }
        let reach = stores.compactMap { $0.hostTool?.recognise.reach }.max() ?? 0
        let head = (try? handle.read(upToCount: reach)) ?? Data()
        guard let driver = stores.first(where: { $0.hostTool!.recognise.matches(head) }) else {
            throw MirageError("\(displayPath(file.path)) is the disk image of no store (\(stores.map(\.name).joined(separator: ", ")))",
                              fix: "make one with mirage-config kv pack DIR -o FILE, or boot a unikernel with littlefsStore(on:) on it")
        }
        self.file = file
        self.driver = driver
        self.installation = installation
    }

    /// The entries under `key` ("" for the top), one per line, dictionaries ending in "/".
    public func list(_ key: String) throws -> String {
        try run(["ls", file.path] + (key.isEmpty ? [] : [key])).output
    }

    /// The value at `key`.
    public func get(_ key: String) throws -> Data {
        try run(["get", file.path, key]).outputData
    }

    /// Sets `key` to the contents of `value`.
    public func put(_ key: String, from value: URL) throws {
        try requireReadableFile(value, "the value to put")
        _ = try run(["put", file.path, key, value.path])
    }

    func run(_ arguments: [String]) throws -> Shell.Result {
        try driver.runHostTool(arguments, installation: installation)
    }
}
