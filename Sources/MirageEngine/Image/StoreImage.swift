import Foundation

/// The disk image of a key-value store, read and written on the host with
/// tools this project did not write: GNU tar for tar stores, littlefs-python
/// (tools/littlefs-tool.py) for littlefs stores.
public struct StoreImage {
    public enum Format: String { case tar, littlefs }

    public let file: URL
    public let format: Format
    let installation: Installation

    /// Recognises the image: a ustar header, or a littlefs superblock.
    public init(_ file: URL, installation: Installation) throws {
        try requireReadableFile(file, "the disk image")
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw MirageError("cannot read the disk image \(displayPath(file.path))")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        self.file = file
        self.installation = installation
        if head.count == 512, head[257..<262].elementsEqual("ustar".utf8) {
            format = .tar
        } else if head.count >= 16, head[8..<16].elementsEqual("littlefs".utf8) || StoreImage.hasLittlefsInSecondBlock(handle) {
            format = .littlefs
        } else {
            throw MirageError("\(displayPath(file.path)) is neither a tar archive nor a littlefs image",
                              fix: "make one with mirage-config kv pack DIR -o FILE, or boot a unikernel with littlefsStore(on:) on it")
        }
    }

    /// A littlefs image whose first block is torn keeps its superblock in the second.
    static func hasLittlefsInSecondBlock(_ handle: FileHandle) -> Bool {
        var size: UInt64 = 512
        while size <= 65536 {
            try? handle.seek(toOffset: size + 8)
            if ((try? handle.read(upToCount: 8)) ?? Data()).elementsEqual("littlefs".utf8) { return true }
            size *= 2
        }
        return false
    }

    /// The entries under `key` ("" for the top), one per line, dictionaries ending in "/".
    public func list(_ key: String) throws -> String {
        switch format {
        case .littlefs: return try littlefs(["ls", file.path] + (key.isEmpty ? [] : [key])).output
        case .tar:
            let prefix = key.split(separator: "/").joined(separator: "/")
            var names: [String] = []
            for line in try tar(["--list", "--file", file.path]).output.split(separator: "\n") {
                var path = String(line)
                if path.hasPrefix("./") { path.removeFirst(2) }
                guard prefix.isEmpty || path.hasPrefix(prefix + "/") else { continue }
                let rest = prefix.isEmpty ? path : String(path.dropFirst(prefix.count + 1))
                guard !rest.isEmpty else { continue }
                let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
                let name = parts.count > 1 ? parts[0] + "/" : parts[0]
                if !name.isEmpty && name != "/" && !names.contains(String(name)) { names.append(String(name)) }
            }
            return names.sorted().map { $0 + "\n" }.joined()
        }
    }

    /// The value at `key`.
    public func get(_ key: String) throws -> Data {
        switch format {
        case .littlefs: return try littlefs(["get", file.path, key]).data
        case .tar:
            let name = key.split(separator: "/").joined(separator: "/")
            let members = try tar(["--list", "--file", file.path]).output.split(separator: "\n").map(String.init)
            guard let member = members.first(where: { $0 == name || $0 == "./" + name }) else {
                throw MirageError("\(displayPath(file.path)) has no key '\(key)'")
            }
            return try tar(["--extract", "--to-stdout", "--file", file.path, member]).data
        }
    }

    /// Sets `key` to the contents of `value`.
    public func put(_ key: String, from value: URL) throws {
        guard format == .littlefs else {
            throw MirageError("a tar store is read-only", fix: "change the folder and pack it again: mirage-config kv pack DIR -o \(displayPath(file.path))")
        }
        try requireReadableFile(value, "the value to put")
        _ = try littlefs(["put", file.path, key, value.path])
    }

    struct Output {
        let data: Data
        var output: String { String(decoding: data, as: UTF8.self) }
    }

    func littlefs(_ arguments: [String]) throws -> Output {
        let tool = installation.root.appendingPathComponent("tools/littlefs-tool.py")
        let venv = installation.root.appendingPathComponent(".build/python/bin/python3")
        let python = FileManager.default.isExecutableFile(atPath: venv.path) ? venv : findInPath("python3")
        guard let python else { throw MirageError("python3 is not installed", fix: "run scripts/setup") }
        return try run(python, [tool.path] + arguments)
    }

    func tar(_ arguments: [String]) throws -> Output {
        guard let tar = findInPath("tar") else { throw MirageError("GNU tar is not installed", fix: "apt-get install tar") }
        return try run(tar, arguments)
    }

    func run(_ executable: URL, _ arguments: [String]) throws -> Output {
        let result = try Shell.run(executable, arguments, timeout: 120)
        guard result.status == 0 else {
            throw MirageError(result.error.split(separator: "\n").last.map(String.init) ?? "\(executable.lastPathComponent) exited with \(result.status)")
        }
        return Output(data: result.outputData)
    }
}
