/// What `git index-pack` does for a pack a fetch received: every entry
/// inflated, every delta resolved (against a base in the same pack: a thin
/// pack is refused), every object named by its SHA-1, and the pack's own
/// checksum checked; then the index (version 2) GitStore reads, and the
/// store image that holds both, so a fetched commit is served by the same
/// code as a packed disk. Pure, host-tested against `git index-pack`.
public enum GitPackIndexer {
    struct Entry {
        let offset: Int
        let header: GitPack.EntryHeader
        var id: [UInt8] = []
    }

    /// The index (version 2) of `pack`. Its CRC-32 column is zeros: nothing
    /// reads it here (each object is checked by its name when it is read),
    /// and the index never leaves memory; the rest is what git writes.
    public static func index(_ pack: [UInt8]) throws(KeyValueError) -> [UInt8] {
        guard pack.count >= 32, pack[0..<4].elementsEqual("PACK".utf8), pack[4..<8].elementsEqual([0, 0, 0, 2]) else { throw .corrupt }
        let end = pack.count - 20
        var checksum = SHA1()
        checksum.update(pack[0..<end])
        guard checksum.finish().elementsEqual(pack[end...]) else {
            print("git: the pack's checksum does not match its bytes")
            throw .corrupt
        }
        // In 32 bits, as a board's Int has them: a count with its top bit set must be refused, not wrap negative.
        let declared = UInt32(pack[8]) << 24 | UInt32(pack[9]) << 16 | UInt32(pack[10]) << 8 | UInt32(pack[11])
        guard declared <= UInt32((end - 12) / 2) else { throw .corrupt }   // an entry takes at least two bytes
        let count = Int(declared)

        // Where each entry is and what it is; whole objects named at once.
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var byOffset: [Int: Int] = [:]
        var offset = 12
        for _ in 0..<count {
            guard offset < end else {
                print("git: the pack ends after \(entries.count) of its \(count) entries")
                throw .corrupt
            }
            let header: GitPack.EntryHeader
            let data: [UInt8], next: Int
            do throws(KeyValueError) {
                header = try GitPack.entryHeader(Array(pack[offset..<min(end, offset + 32)]), at: UInt64(offset))
                (data, next) = try inflate(pack, at: offset + header.dataStart, size: header.size, end: end)
            } catch {
                print("git: the pack's entry at offset \(offset) does not parse or inflate")
                throw error
            }
            var entry = Entry(offset: offset, header: header)
            if header.baseOffset == nil && header.baseID == nil { entry.id = GitPack.objectID(header.type, data) }
            byOffset[offset] = entries.count
            entries.append(entry)
            offset = next
        }
        guard offset == end else {
            print("git: the pack has \(end - offset) bytes after its last entry")
            throw .corrupt
        }

        // Deltas, each resolved along its chain; a base named by id must be named first, so repeat until none is left.
        var byID: [[UInt8]: Int] = [:]
        for (position, entry) in entries.enumerated() where !entry.id.isEmpty { byID[entry.id] = position }
        var resolver = Resolver(pack: pack, end: end, entries: entries, byOffset: byOffset)
        var pending = entries.indices.filter { entries[$0].id.isEmpty }
        while !pending.isEmpty {
            var waiting: [Int] = []
            for position in pending {
                let resolved: (GitPack.ObjectType, [UInt8])?
                do throws(KeyValueError) {
                    resolved = try resolver.resolve(position, byID: byID)
                } catch {
                    print("git: the delta at offset \(entries[position].offset) does not apply")
                    throw error
                }
                guard let (type, bytes) = resolved else {
                    waiting.append(position)
                    continue
                }
                let id = GitPack.objectID(type, bytes)
                resolver.entries[position].id = id
                byID[id] = position
            }
            guard waiting.count < pending.count else {
                print("git: a delta's base is not in the pack (a thin pack)")
                throw .corrupt
            }
            pending = waiting
        }
        return indexBytes(resolver.entries, packChecksum: Array(pack[end...]))
    }

    /// The zlib stream at `start` that inflates to `size` bytes: its bytes and where it ends.
    static func inflate(_ pack: [UInt8], at start: Int, size: Int, end: Int) throws(KeyValueError) -> ([UInt8], Int) {
        guard start < end else { throw .corrupt }
        let inflated: (output: [UInt8], end: Int)
        do throws(InflateError) {
            // Room for the whole object at once: a large file never needs room for two growing copies of itself.
            inflated = try Inflate.zlib(pack, from: start, limit: size, reserving: min(size, 16 << 20))
        } catch {
            throw .corrupt
        }
        guard inflated.output.count == size, inflated.end <= end else { throw .corrupt }
        return inflated
    }

    /// Delta chains, with the bases met kept while they fit a budget.
    struct Resolver {
        let pack: [UInt8]
        let end: Int
        var entries: [Entry]
        let byOffset: [Int: Int]
        var cache = GitObjectCache(budget: 2 << 20)

        /// The type and bytes of entry `position`; nil while a base it names by id has no name yet.
        mutating func resolve(_ position: Int, byID: [[UInt8]: Int]) throws(KeyValueError) -> (GitPack.ObjectType, [UInt8])? {
            var deltas: [[UInt8]] = []
            var current = position
            var base: (type: GitPack.ObjectType, bytes: [UInt8])
            while true {
                let entry = entries[current]
                if current != position, let cached = cache.object(at: UInt64(entry.offset)) {
                    base = (cached.type, cached.bytes)
                    break
                }
                let (data, _) = try GitPackIndexer.inflate(pack, at: entry.offset + entry.header.dataStart, size: entry.header.size, end: end)
                let baseOffset = entry.header.baseOffset.map { Int($0) }
                if entry.header.baseOffset == nil && entry.header.baseID == nil {
                    base = (entry.header.type, data)
                    break
                }
                guard deltas.count < GitStore<MemoryArchive>.longestChain else { throw .corrupt }
                deltas.append(data)
                if let baseOffset {
                    guard let next = byOffset[baseOffset] else { throw .corrupt }
                    current = next
                } else if let baseID = entry.header.baseID {
                    guard let next = byID[baseID] else { return nil }
                    current = next
                }
            }
            if !deltas.isEmpty { cache.keep(type: base.type, base.bytes, at: UInt64(entries[current].offset), checked: true) }
            var bytes = base.bytes
            for delta in deltas.reversed() { bytes = try GitPack.applyDelta(delta, to: bytes) }
            return (base.type, bytes)
        }
    }

    /// The index's bytes (gitformat-pack, "pack-*.idx files have the following format", version 2).
    static func indexBytes(_ entries: [Entry], packChecksum: [UInt8]) -> [UInt8] {
        let sorted = entries.sorted { $0.id.lexicographicallyPrecedes($1.id) }
        var bytes = GitPackIndex.magic
        func word(_ value: UInt32) { bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        var counts = [UInt32](repeating: 0, count: 256)
        for entry in sorted { counts[Int(entry.id[0])] += 1 }
        var total: UInt32 = 0
        for bucket in 0..<256 {
            total += counts[bucket]
            word(total)
        }
        for entry in sorted { bytes += entry.id }
        for _ in sorted { word(0) }
        var large: [UInt64] = []
        for entry in sorted {
            if UInt64(entry.offset) < 0x8000_0000 {
                word(UInt32(entry.offset))
            } else {
                word(0x8000_0000 | UInt32(large.count))
                large.append(UInt64(entry.offset))
            }
        }
        for offset in large {
            word(UInt32(offset >> 32))
            word(UInt32(offset & 0xFFFF_FFFF))
        }
        bytes += packChecksum
        bytes += SHA1.hash(bytes)
        return bytes
    }

    /// A store image in memory (GitStoreImage's layout, as `kv pack --git`
    /// writes a disk): the header naming `ref` and `commit`, the pack at
    /// 512, its index after it; GitStore reads it as it reads a disk.
    public static func storeImage(ref: String, commit: [UInt8], pack: [UInt8]) throws(KeyValueError) -> GitPackImage {
        let index = try index(pack)
        let headerSize = GitStoreImage.headerSize
        let indexOffset = headerSize + pack.count
        let header = Array("\(GitStoreImage.magic)\nref \(ref)\ncommit \(GitPack.hex(commit))\npack \(headerSize) \(pack.count)\nindex \(indexOffset) \(index.count)\n".utf8)
        guard header.count <= headerSize else { throw .corrupt }
        return GitPackImage(parts: [header + [UInt8](repeating: 0, count: headerSize - header.count), pack, index])
    }
}

/// A git store's image in memory, read as a disk is: its parts (the header
/// block, the pack, the index) side by side without being copied into one
/// array, so a fetched pack of some MiB is held once.
public final class GitPackImage: ArchiveSource {
    let parts: [[UInt8]]
    public let byteCount: UInt64

    public init(parts: [[UInt8]]) {
        self.parts = parts
        byteCount = UInt64(parts.reduce(0) { $0 + $1.count })
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(KeyValueError) {
        guard offset <= byteCount, UInt64(buffer.count) <= byteCount - offset else { throw .corrupt }
        guard let destination = buffer.baseAddress else { return }
        var written = 0, partStart = 0
        for part in parts where written < buffer.count {
            let position = Int(offset) + written
            if position < partStart + part.count {
                let count = min(buffer.count - written, partStart + part.count - position)
                part.withUnsafeBytes { bytes in
                    (destination + written).copyMemory(from: bytes.baseAddress! + (position - partStart), byteCount: count)
                }
                written += count
            }
            partStart += part.count
        }
    }
}
