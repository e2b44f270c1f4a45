/// A key-value store to read, as MirageOS's Mirage_kv.RO: values under keys
/// that are paths ("a/b/c"); the keys between slashes are dictionaries. The
/// same job runs on any store: files baked into the image, a tar archive on
/// a disk, a littlefs file system on a disk, a git pack on a disk. Every failure is a
/// `KeyValueError` value. A job that writes takes a `KeyValueWriter`, which
/// config.swift can only give it a writable store for (`.kvWriter`).
public protocol KeyValueReader: AnyObject {
    /// Whether `key` is a value, a dictionary, or absent (nil).
    func exists(_ key: String) throws(KeyValueError) -> KeyValueKind?
    /// The whole value at `key`.
    func get(_ key: String) throws(KeyValueError) -> [UInt8]
    /// At most `length` bytes of the value at `key` from `offset`.
    func get(_ key: String, offset: Int, length: Int) throws(KeyValueError) -> [UInt8]
    /// The entries directly under the dictionary `key` ("" is the root), in name order.
    func list(_ key: String) throws(KeyValueError) -> [KeyValueEntry]
    /// The size in bytes of the value at `key`.
    func size(_ key: String) throws(KeyValueError) -> Int
    /// A digest of the value at `key`, which changes when the value does (an
    /// HTTP ETag): BLAKE2s-256 of its bytes by default (kv-store's), the
    /// value's own name in a store that has one (git's SHA-1).
    func digest(_ key: String) throws(KeyValueError) -> [UInt8]

    /// What a snapshot of the store is; the store itself when its contents
    /// change only by the job's own writes.
    associatedtype Snapshot: KeyValueReader = Self
    /// The store as it is now, unchanged by later updates from elsewhere (a
    /// remote git store's pull): a request that reads a value in pieces
    /// reads them from one snapshot, so no answer mixes two versions.
    func snapshot() -> Snapshot
}

extension KeyValueReader where Snapshot == Self {
    public func snapshot() -> Self { self }
}

/// A key-value store that also takes changes (Mirage_kv.RW): littlefs on a disk.
public protocol KeyValueWriter: KeyValueReader {
    /// Sets `key` to `value`, making the dictionaries above it; durable when it returns.
    func set(_ key: String, _ value: [UInt8]) throws(KeyValueError)
    /// Removes `key` and, for a dictionary, everything under it.
    func remove(_ key: String) throws(KeyValueError)
    /// Moves the value or dictionary at `source` to `destination`, replacing what was there.
    func rename(_ source: String, to destination: String) throws(KeyValueError)
    /// Bytes that `set` can still use.
    func freeSpace() throws(KeyValueError) -> Int
}

public enum KeyValueKind: Equatable {
    case value, dictionary
}

public struct KeyValueEntry: Equatable {
    public let name: String
    public let kind: KeyValueKind

    public init(name: String, kind: KeyValueKind) {
        self.name = name
        self.kind = kind
    }
}

public enum KeyValueError: Error, Equatable {
    case notFound
    /// A value was expected and the key is a dictionary, or the reverse.
    case wrongKind
    /// The disk under a writable store is read-only.
    case readOnly
    case noSpace
    /// The key is empty where a value is needed, or has a part that is too long or not allowed.
    case invalidKey
    /// The store's data does not parse: it was damaged or is not this format.
    case corrupt
    /// The block device under the store failed.
    case device(BlockError)

    public var reason: StaticString {
        switch self {
        case .notFound: return "no such key"
        case .wrongKind: return "a value where a dictionary is needed, or the reverse"
        case .readOnly: return "the disk is read-only"
        case .noSpace: return "no space left"
        case .invalidKey: return "invalid key"
        case .corrupt: return "the store is corrupt"
        case .device(let error): return error.reason
        }
    }
}

/// Keys as paths: their parts, with empty parts (doubled or outer slashes) dropped.
public enum KeyPath {
    public static func parts(_ key: String) -> [Substring] {
        key.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// The key's canonical text: its parts joined by single slashes.
    public static func normalized(_ key: String) -> String {
        var text = ""
        for part in parts(key) {
            if !text.isEmpty { text += "/" }
            text += part
        }
        return text
    }
}
