/// A read-only key-value store over a git pack on a disk (as MirageOS's
/// docteur): the files of one commit's tree, read on demand from the pack
/// `git` wrote, never unpacked or loaded whole. A value is found by walking
/// trees from the commit's; each object is inflated, its delta chain
/// applied, and its SHA-1 checked against its name before any byte of it is
/// returned: a damaged pack is an error (naming the object on the console),
/// never wrong bytes. Bases and trees are kept in a cache of bounded size.
///
/// The disk starts with a header block (`GitStoreImage`) that says which
/// commit, and where the pack and its index are; `mirage-config kv pack
/// --git REPO[@REF]` makes one with `git pack-objects`.
public final class GitStore<Source: ArchiveSource>: KeyValueReader {
    let source: Source
    let image: GitStoreImage
    let index: GitPackIndex
    var rootTree: [UInt8] = []
    /// Why the store was refused, if it was.
    public private(set) var failure: KeyValueError?
    /// The commit served, in hex ("" if the store was refused).
    public let commit: String
    var cache = GitObjectCache(budget: 4 << 20)
    /// The last value read, whatever its size: Range requests read one value piece by piece.
    var lastValue: (offset: UInt64, bytes: [UInt8])?

    /// Git itself caps delta chains at 4095 (pack-objects --depth); a longer one is a loop.
    static var longestChain: Int { 4096 }

    /// The store on `source`; `ref`, unless empty, must be the ref the image was packed from
    /// ("main" matches refs/heads/main and refs/tags/main).
    public init(source: Source, ref: String = "") {
        self.source = source
        var image = GitStoreImage.empty
        var index: GitPackIndex? = nil
        do throws(KeyValueError) {
            image = try GitStoreImage(try source.read(at: 0, count: min(Int(source.byteCount), GitStoreImage.headerSize)))
            if !ref.isEmpty, !image.holds(ref: ref) {
                print("git store: the disk holds \(image.ref), not \(ref)")
                throw .notFound
            }
            guard image.packOffset + image.packLength <= source.byteCount, image.indexOffset + image.indexLength <= source.byteCount else {
                throw .corrupt
            }
            let packHeader = try source.read(at: image.packOffset, count: 12)
            guard packHeader[0..<4].elementsEqual("PACK".utf8), packHeader[4..<8].elementsEqual([0, 0, 0, 2]) else { throw .corrupt }
            index = try GitPackIndex(source: source, at: image.indexOffset, length: image.indexLength, packLength: image.packLength)
        } catch {
            failure = error
        }
        self.image = image
        self.index = index ?? GitPackIndex.empty
        commit = failure == nil ? GitPack.hex(image.commit) : ""
        if failure == nil {
            do throws(KeyValueError) {
                rootTree = try GitPack.commitTree(try object(image.commit, expecting: .commit))
            } catch {
                failure = error
            }
        }
    }

    /// A store with nothing in it, whose every read fails with `reason` (a remote's before its first pull).
    public init(unavailable reason: KeyValueError, source: Source) {
        self.source = source
        image = .empty
        index = .empty
        commit = ""
        failure = reason
    }

    /// Forgets the objects and the value it keeps for the next reads (they
    /// are read again as needed): room for a remote's next pull beside it.
    public func dropCaches() {
        cache = GitObjectCache(budget: cache.budget)
        lastValue = nil
    }

    // MARK: Objects

    /// The bytes of the object named `id`, which must be of `type`, checked against its name.
    func object(_ id: [UInt8], expecting type: GitPack.ObjectType) throws(KeyValueError) -> [UInt8] {
        guard let offset = try index.find(id, in: source) else {
            print("git store: object \(GitPack.hex(id)) is not in the pack")
            throw .corrupt
        }
        if type == .blob, let last = lastValue, last.offset == offset { return last.bytes }
        if let cached = cache.object(at: offset) {
            // A delta's base is kept before it is checked: check it when it is asked for by name.
            if !cached.checked {
                try check(id, type: type, found: cached.type, cached.bytes)
                cache.markChecked(at: offset)
            }
            guard cached.type == type else { throw .corrupt }
            return cached.bytes
        }
        // Two large values are never held at once: the last one goes before the next is read.
        if type == .blob { lastValue = nil }
        let (foundType, bytes) = try resolve(offset)
        try check(id, type: type, found: foundType, bytes)
        if type == .blob {
            lastValue = (offset, bytes)
        } else {
            cache.keep(type: foundType, bytes, at: offset, checked: true)
        }
        return bytes
    }

    func check(_ id: [UInt8], type: GitPack.ObjectType, found: GitPack.ObjectType, _ bytes: [UInt8]) throws(KeyValueError) {
        guard found == type, GitPack.objectID(found, bytes) == id else {
            print("git store: object \(GitPack.hex(id)) (\(type.name)) does not match its name: the pack is damaged")
            throw .corrupt
        }
    }

    /// The type and bytes of the entry at pack offset `offset`, its delta chain applied.
    func resolve(_ offset: UInt64) throws(KeyValueError) -> (GitPack.ObjectType, [UInt8]) {
        var deltas: [[UInt8]] = []
        var current = offset
        var base: (type: GitPack.ObjectType, bytes: [UInt8])
        while true {
            if current != offset, let cached = cache.object(at: current) {
                base = (cached.type, cached.bytes)
                break
            }
            let (header, data) = try entry(at: current)
            switch header.type {
            case .offsetDelta, .referenceDelta:
                guard deltas.count < GitStore.longestChain else { throw .corrupt }
                deltas.append(data)
                if let baseOffset = header.baseOffset {
                    current = baseOffset
                } else if let baseID = header.baseID, let found = try index.find(baseID, in: source) {
                    current = found
                } else {
                    throw .corrupt   // a base outside the pack: thin packs are not served
                }
                continue
            default:
                base = (header.type, data)
            }
            break
        }
        if !deltas.isEmpty { cache.keep(type: base.type, base.bytes, at: current, checked: false) }
        var bytes = base.bytes
        for delta in deltas.reversed() {
            bytes = try GitPack.applyDelta(delta, to: bytes)
        }
        return (base.type, bytes)
    }

    /// Bytes of a pack entry read in one request: a small entry is read whole;
    /// a large one is inflated piece by piece, so that only what it inflates
    /// to needs room (a 10 MiB file on a board with a 16 MiB heap).
    static var pieceSize: Int { 256 * 1024 }

    /// The header and the inflated data of the entry at `offset`.
    func entry(at offset: UInt64) throws(KeyValueError) -> (GitPack.EntryHeader, [UInt8]) {
        guard let end = index.end(ofEntryAt: offset) else { throw .corrupt }
        let source = self.source
        let start = image.packOffset + offset, length = end - offset
        let first = try source.read(at: start, count: Int(min(length, UInt64(GitStore.pieceSize))))
        let header = try GitPack.entryHeader(first, at: offset)
        var pieces = [Array(first[header.dataStart...])]
        var next = start + UInt64(first.count)
        let stop = image.packOffset + end
        var failure: KeyValueError? = nil
        let more = { () throws(InflateError) -> [UInt8]? in
            if !pieces.isEmpty { return pieces.removeLast() }
            guard next < stop else { return nil }
            let count = Int(min(stop - next, UInt64(GitStore.pieceSize)))
            do throws(KeyValueError) {
                let piece = try source.read(at: next, count: count)
                next += UInt64(count)
                return piece
            } catch {
                failure = error
                throw .truncated
            }
        }
        // Room for the whole object at once, unless its size is more than any
        // real zlib stream of this length could make (a damaged or hostile header).
        let plausible = UInt64(header.size) <= length * 64 + 65_536
        let data: [UInt8]
        do throws(InflateError) {
            data = try Inflate.zlib(reading: more, limit: header.size, reserving: plausible ? header.size : 1 << 16).output
        } catch {
            throw failure ?? .corrupt
        }
        guard data.count == header.size else { throw .corrupt }
        return (header, data)
    }

    // MARK: Keys

    /// The tree entry at `key`; nil when there is none. The root is a tree entry of its own.
    func lookup(_ key: String) throws(KeyValueError) -> GitPack.TreeEntry? {
        if let failure { throw failure }
        var current = GitPack.TreeEntry(name: "", mode: 0o040000, id: rootTree)
        for part in KeyPath.parts(key) {
            guard current.kind == .dictionary else { return nil }
            let entries = try GitPack.treeEntries(try object(current.id, expecting: .tree))
            guard let found = entries.first(where: { $0.name.utf8.elementsEqual(part.utf8) }), found.kind != nil else { return nil }
            current = found
        }
        return current
    }

    func value(_ key: String) throws(KeyValueError) -> GitPack.TreeEntry {
        guard let entry = try lookup(key) else { throw .notFound }
        guard entry.kind == .value else { throw .wrongKind }
        return entry
    }

    public func exists(_ key: String) throws(KeyValueError) -> KeyValueKind? {
        try lookup(key)?.kind
    }

    public func get(_ key: String) throws(KeyValueError) -> [UInt8] {
        try object(try value(key).id, expecting: .blob)
    }

    public func get(_ key: String, offset: Int, length: Int) throws(KeyValueError) -> [UInt8] {
        let bytes = try get(key)
        guard offset >= 0, length >= 0 else { throw .invalidKey }
        guard offset < bytes.count else { return [] }
        return Array(bytes[offset..<(offset + min(length, bytes.count - offset))])
    }

    public func size(_ key: String) throws(KeyValueError) -> Int {
        try get(key).count
    }

    public func list(_ key: String) throws(KeyValueError) -> [KeyValueEntry] {
        guard let entry = try lookup(key) else { throw .notFound }
        guard entry.kind == .dictionary else { throw .wrongKind }
        var entries: [KeyValueEntry] = []
        for child in try GitPack.treeEntries(try object(entry.id, expecting: .tree)) {
            if let kind = child.kind { entries.append(KeyValueEntry(name: child.name, kind: kind)) }
        }
        // Git orders a tree "name/" for a subtree; a store lists by name alone.
        return entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The value's git name (the SHA-1 of "blob SIZE\0" and its bytes), as `git hash-object` prints it:
    /// read from its tree, so a digest costs no read of the value.
    public func digest(_ key: String) throws(KeyValueError) -> [UInt8] {
        try value(key).id
    }
}

/// Objects a git store read recently (delta bases and trees), by pack
/// offset, up to a number of bytes; the least recently used goes first.
struct GitObjectCache {
    struct Entry {
        let offset: UInt64
        let type: GitPack.ObjectType
        let bytes: [UInt8]
        /// Whether its bytes were checked against its name (a delta's base is kept before).
        var checked: Bool
        var lastUse: UInt32
    }
    let budget: Int
    var entries: [Entry] = []
    var bytes = 0
    var clock: UInt32 = 0

    init(budget: Int) { self.budget = budget }

    mutating func object(at offset: UInt64) -> Entry? {
        guard let index = entries.firstIndex(where: { $0.offset == offset }) else { return nil }
        clock &+= 1
        entries[index].lastUse = clock
        return entries[index]
    }

    mutating func markChecked(at offset: UInt64) {
        if let index = entries.firstIndex(where: { $0.offset == offset }) { entries[index].checked = true }
    }

    mutating func keep(type: GitPack.ObjectType, _ object: [UInt8], at offset: UInt64, checked: Bool) {
        guard object.count <= budget / 4, !entries.contains(where: { $0.offset == offset }) else { return }
        while bytes + object.count > budget || entries.count >= 256,
              let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            bytes -= entries[oldest].bytes.count
            entries.remove(at: oldest)
        }
        clock &+= 1
        entries.append(Entry(offset: offset, type: type, bytes: object, checked: checked, lastUse: clock))
        bytes += object.count
    }
}

/// The header block in front of a git store's pack and index: text lines,
/// so that `head -c 512 disk.img` shows what the disk holds.
///
///     mirage-config git store 1
///     ref refs/heads/main
///     commit 40-HEX-DIGITS
///     pack OFFSET LENGTH
///     index OFFSET LENGTH
public struct GitStoreImage {
    public static var headerSize: Int { 512 }
    public static var magic: String { "mirage-config git store 1" }
    public let ref: String
    public let commit: [UInt8]
    public let packOffset: UInt64, packLength: UInt64
    public let indexOffset: UInt64, indexLength: UInt64

    static var empty: GitStoreImage {
        GitStoreImage(ref: "", commit: [], packOffset: 0, packLength: 0, indexOffset: 0, indexLength: 0)
    }

    init(ref: String, commit: [UInt8], packOffset: UInt64, packLength: UInt64, indexOffset: UInt64, indexLength: UInt64) {
        self.ref = ref
        self.commit = commit
        self.packOffset = packOffset
        self.packLength = packLength
        self.indexOffset = indexOffset
        self.indexLength = indexLength
    }

    public init(_ header: [UInt8]) throws(KeyValueError) {
        let text = header.prefix { $0 != 0 }
        let lines = text.split(separator: 10)
        guard lines.count >= 5, lines[0].elementsEqual(GitStoreImage.magic.utf8) else { throw .corrupt }
        func field(_ line: ArraySlice<UInt8>, _ name: String) throws(KeyValueError) -> [ArraySlice<UInt8>] {
            let words = line.split(separator: 32)
            guard words.count >= 2, words[0].elementsEqual(name.utf8) else { throw .corrupt }
            return Array(words.dropFirst())
        }
        func number(_ word: ArraySlice<UInt8>) throws(KeyValueError) -> UInt64 {
            var value: UInt64 = 0
            for digit in word {
                guard digit >= 48 && digit <= 57, value < 1 << 56 else { throw .corrupt }
                value = value * 10 + UInt64(digit - 48)
            }
            return value
        }
        ref = String(decoding: try field(lines[1], "ref")[0], as: UTF8.self)
        guard let commit = GitPack.parseHex(try field(lines[2], "commit")[0]) else { throw .corrupt }
        self.commit = commit
        let pack = try field(lines[3], "pack"), index = try field(lines[4], "index")
        guard pack.count == 2, index.count == 2 else { throw .corrupt }
        packOffset = try number(pack[0])
        packLength = try number(pack[1])
        indexOffset = try number(index[0])
        indexLength = try number(index[1])
    }

    /// Whether `name` names the ref this image was packed from: the full name, or a branch's or tag's short one.
    func holds(ref name: String) -> Bool {
        ref == name || ref == "refs/heads/" + name || ref == "refs/tags/" + name
    }
}

extension GitPackIndex {
    static var empty: GitPackIndex { GitPackIndex() }

    private init() {
        start = 0
        fanout = [UInt32](repeating: 0, count: 256)
        offsets = []
        entryBoundaries = [0]
    }
}
