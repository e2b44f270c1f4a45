/// A read-only key-value store over a ustar archive (MirageOS's
/// tar-mirage): at start it reads only the headers, to index where each
/// member's data is; values are read from the archive when asked. An
/// archive with a damaged header is refused whole, so nothing corrupt is
/// ever returned.
public final class TarStore<Source: ArchiveSource>: KeyValueReader {
    let source: Source
    /// Members by key, in archive order; a later member of one key replaces an earlier one.
    var members: [TarFormat.Member] = []
    /// Why the archive was refused, if it was.
    public private(set) var failure: KeyValueError?
    /// Digests computed so far, by member: an archive does not change, and a
    /// website asks for a value's digest (its ETag) with every request.
    var digests: [[UInt8]?] = []

    public init(source: Source) {
        self.source = source
        do throws(KeyValueError) { try index() } catch {
            failure = error
            members = []
        }
    }

    func index() throws(KeyValueError) {
        var offset: UInt64 = 0
        while offset + UInt64(TarFormat.blockSize) <= source.byteCount {
            let header = try source.read(at: offset, count: TarFormat.blockSize)
            switch try TarFormat.header(header, at: offset) {
            case .end:
                return
            case .skipped(let size):
                offset = TarFormat.next(afterDataAt: offset + UInt64(TarFormat.blockSize), size: size)
            case .member(let member):
                guard member.dataOffset <= source.byteCount, member.size <= source.byteCount - member.dataOffset else { throw .corrupt }
                members.removeAll { $0.key == member.key }
                if !member.key.isEmpty { members.append(member) }
                offset = TarFormat.next(afterDataAt: member.dataOffset, size: member.size)
            }
        }
        // No end blocks: an archive cut short is accepted only if it ends exactly after a member.
        if offset != source.byteCount && source.byteCount > 0 { throw .corrupt }
    }

    func checked() throws(KeyValueError) {
        if let failure { throw failure }
    }

    func value(_ key: String) throws(KeyValueError) -> TarFormat.Member {
        try checked()
        let key = KeyPath.normalized(key)
        if let member = members.first(where: { $0.key == key }) {
            if member.isDirectory { throw .wrongKind }
            return member
        }
        if try exists(key) == .dictionary { throw .wrongKind }
        throw .notFound
    }

    public func exists(_ key: String) throws(KeyValueError) -> KeyValueKind? {
        try checked()
        let key = KeyPath.normalized(key)
        if key.isEmpty { return .dictionary }
        if let member = members.first(where: { $0.key == key }) { return member.isDirectory ? .dictionary : .value }
        let prefix = key + "/"
        return members.contains { $0.key.hasPrefix(prefix) } ? .dictionary : nil
    }

    public func get(_ key: String) throws(KeyValueError) -> [UInt8] {
        let member = try value(key)
        return try read(member, offset: 0, length: Int(member.size))
    }

    public func get(_ key: String, offset: Int, length: Int) throws(KeyValueError) -> [UInt8] {
        let member = try value(key)
        guard offset >= 0, length >= 0 else { throw .invalidKey }
        guard UInt64(offset) < member.size else { return [] }
        return try read(member, offset: offset, length: min(length, Int(member.size) - offset))
    }

    func read(_ member: TarFormat.Member, offset: Int, length: Int) throws(KeyValueError) -> [UInt8] {
        try source.read(at: member.dataOffset + UInt64(offset), count: length)
    }

    public func size(_ key: String) throws(KeyValueError) -> Int {
        Int(try value(key).size)
    }

    /// BLAKE2s-256 of the value, as every store but git's gives it: computed once per member.
    public func digest(_ key: String) throws(KeyValueError) -> [UInt8] {
        let member = try value(key)
        guard let index = members.firstIndex(where: { $0.key == member.key }) else { throw .notFound }
        if digests.count != members.count { digests = [[UInt8]?](repeating: nil, count: members.count) }
        if let known = digests[index] { return known }
        let digest = BLAKE2s.hash(try read(member, offset: 0, length: Int(member.size)))
        digests[index] = digest
        return digest
    }

    public func list(_ key: String) throws(KeyValueError) -> [KeyValueEntry] {
        guard let kind = try exists(key) else { throw .notFound }
        guard kind == .dictionary else { throw .wrongKind }
        let key = KeyPath.normalized(key)
        let prefix = key.isEmpty ? "" : key + "/"
        var entries: [KeyValueEntry] = []
        for member in members where member.key.hasPrefix(prefix) && member.key.count > prefix.count {
            let rest = member.key.dropFirst(prefix.count)
            let name = String(rest.prefix { $0 != "/" })
            let isDeeper = rest.contains("/")
            let entry = KeyValueEntry(name: name, kind: isDeeper || member.isDirectory ? .dictionary : .value)
            if let index = entries.firstIndex(where: { $0.name == name }) {
                if entry.kind == .dictionary { entries[index] = entry }
            } else {
                entries.append(entry)
            }
        }
        return entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

}
