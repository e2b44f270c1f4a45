/// Git's object store as `git` writes it (Documentation/gitformat-pack.txt):
/// objects, each named by the SHA-1 of its type, size and bytes; a pack
/// file holding them zlib-compressed, many as deltas against another
/// object; and the pack's index (version 2) from names to places. Pure
/// functions over bytes, host-tested against packs `git` makes.
public enum GitPack {
    public enum ObjectType: UInt8 {
        case commit = 1, tree = 2, blob = 3, tag = 4
        /// A delta against the object at an offset before it in the same pack.
        case offsetDelta = 6
        /// A delta against the object of a name (in the same pack: a thin pack is refused).
        case referenceDelta = 7

        /// The name git hashes in front of an object's bytes.
        var name: String {
            switch self {
            case .commit: return "commit"
            case .tree: return "tree"
            case .blob: return "blob"
            case .tag: return "tag"
            case .offsetDelta, .referenceDelta: return "delta"
            }
        }
    }

    /// What is in front of each object in a pack.
    public struct EntryHeader: Equatable {
        public let type: ObjectType
        /// The size of the inflated data: the object's, or for a delta the delta's.
        public let size: Int
        /// Where the zlib stream starts, from the start of the entry.
        public let dataStart: Int
        /// A delta's base: an offset in the pack, or a name.
        public let baseOffset: UInt64?
        public let baseID: [UInt8]?
    }

    /// The header of the entry at pack offset `offset`, whose bytes start `entry`.
    public static func entryHeader(_ entry: [UInt8], at offset: UInt64) throws(KeyValueError) -> EntryHeader {
        var position = 0
        func next() throws(KeyValueError) -> UInt8 {
            guard position < entry.count else { throw .corrupt }
            defer { position += 1 }
            return entry[position]
        }
        var byte = try next()
        guard let type = ObjectType(rawValue: byte >> 4 & 7) else { throw .corrupt }
        var size = Int(byte & 0x0F)
        var shift = 4
        while byte & 0x80 != 0 {
            byte = try next()
            // Int is 32 bits on the board: no object may claim 2 GiB or more.
            guard shift <= 24, Int(byte & 0x7F) < 1 << (31 - shift) else { throw .corrupt }
            size |= Int(byte & 0x7F) << shift
            shift += 7
        }
        switch type {
        case .offsetDelta:
            // Big-endian base 128, with one added per continuation byte so each length has its own range.
            byte = try next()
            var distance = UInt64(byte & 0x7F)
            while byte & 0x80 != 0 {
                byte = try next()
                guard distance < 1 << 48 else { throw .corrupt }
                distance = (distance + 1) << 7 | UInt64(byte & 0x7F)
            }
            guard distance > 0, distance <= offset else { throw .corrupt }
            return EntryHeader(type: type, size: size, dataStart: position, baseOffset: offset - distance, baseID: nil)
        case .referenceDelta:
            guard position + 20 <= entry.count else { throw .corrupt }
            let id = Array(entry[position..<(position + 20)])
            return EntryHeader(type: type, size: size, dataStart: position + 20, baseOffset: nil, baseID: id)
        default:
            return EntryHeader(type: type, size: size, dataStart: position, baseOffset: nil, baseID: nil)
        }
    }

    /// The object a delta makes of `base` (git's delta format: the base's
    /// size, the result's, then instructions that copy a range of the base
    /// or insert the bytes that follow them).
    public static func applyDelta(_ delta: [UInt8], to base: [UInt8]) throws(KeyValueError) -> [UInt8] {
        var position = 0
        func size() throws(KeyValueError) -> Int {
            var value = 0, shift = 0
            while true {
                guard position < delta.count, shift <= 28 else { throw .corrupt }
                let byte = delta[position]
                position += 1
                // Below 2 GiB (Int is 32 bits on the board); the first 7 bits always fit,
                // and 1 << 31 is negative there, so it is not the bound for them.
                guard shift == 0 || Int(byte & 0x7F) < 1 << (31 - shift) else { throw .corrupt }
                value |= Int(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
        }
        guard try size() == base.count else { throw .corrupt }
        let targetSize = try size()
        var target: [UInt8] = []
        target.reserveCapacity(min(targetSize, 1 << 20))
        while position < delta.count {
            let instruction = delta[position]
            position += 1
            if instruction & 0x80 != 0 {
                // Copy: which offset and size bytes follow is in the instruction's low bits.
                var copyOffset = 0, copySize = 0
                for bit in 0..<7 where instruction & (1 << bit) != 0 {
                    guard position < delta.count else { throw .corrupt }
                    let byte = Int(delta[position])
                    position += 1
                    if bit < 4 {
                        guard bit < 3 || byte < 0x80 else { throw .corrupt }   // 2 GiB and more: not on a 32-bit board
                        copyOffset |= byte << (8 * bit)
                    } else {
                        copySize |= byte << (8 * (bit - 4))
                    }
                }
                if copySize == 0 { copySize = 0x10000 }
                guard copyOffset <= base.count, copySize <= base.count - copyOffset,
                      copySize <= targetSize - target.count else { throw .corrupt }
                target.append(contentsOf: base[copyOffset..<(copyOffset + copySize)])
            } else {
                // Insert; instruction 0 is reserved.
                let count = Int(instruction)
                guard count > 0, count <= delta.count - position, count <= targetSize - target.count else { throw .corrupt }
                target.append(contentsOf: delta[position..<(position + count)])
                position += count
            }
        }
        guard target.count == targetSize else { throw .corrupt }
        return target
    }

    /// An object's name: the SHA-1 of "TYPE SIZE\0" and its bytes.
    public static func objectID(_ type: ObjectType, _ data: [UInt8]) -> [UInt8] {
        var hash = SHA1()
        hash.update(Array("\(type.name) \(data.count)".utf8) + [0])
        hash.update(data)
        return hash.finish()
    }

    /// One entry of a tree object.
    public struct TreeEntry: Equatable {
        public let name: String
        /// Git's mode: 040000 a tree, 100644 or 100755 a file, 120000 a symbolic link, 160000 a submodule.
        public let mode: UInt32
        public let id: [UInt8]

        /// What a store shows it as: a dictionary, a value, or nothing (links and submodules are not served).
        public var kind: KeyValueKind? {
            switch mode {
            case 0o040000: return .dictionary
            case 0o100644, 0o100755, 0o100664: return .value
            default: return nil
            }
        }
    }

    /// A tree's entries ("MODE NAME\0" and 20 bytes of name each), in the tree's order.
    public static func treeEntries(_ data: [UInt8]) throws(KeyValueError) -> [TreeEntry] {
        var entries: [TreeEntry] = []
        var position = 0
        while position < data.count {
            var mode: UInt32 = 0
            var digits = 0
            while position < data.count && data[position] != 32 {
                let digit = data[position]
                guard digit >= 48 && digit <= 55, digits < 7 else { throw .corrupt }
                mode = mode * 8 + UInt32(digit - 48)
                digits += 1
                position += 1
            }
            guard digits > 0, position < data.count else { throw .corrupt }
            position += 1
            guard let nameEnd = data[position...].firstIndex(of: 0), nameEnd > position,
                  nameEnd + 21 <= data.count else { throw .corrupt }
            let name = String(decoding: data[position..<nameEnd], as: UTF8.self)
            guard !name.contains("/"), name != ".", name != ".." else { throw .corrupt }
            entries.append(TreeEntry(name: name, mode: mode, id: Array(data[(nameEnd + 1)..<(nameEnd + 21)])))
            position = nameEnd + 21
        }
        return entries
    }

    /// The tree a commit names: its first line, "tree HEX".
    public static func commitTree(_ data: [UInt8]) throws(KeyValueError) -> [UInt8] {
        guard data.count >= 46, data[0..<5].elementsEqual("tree ".utf8), data[45] == 10,
              let id = parseHex(data[5..<45]) else { throw .corrupt }
        return id
    }

    /// 40 hexadecimal digits as the 20 bytes they write; nil for anything else.
    public static func parseHex<Digits: Collection>(_ digits: Digits) -> [UInt8]? where Digits.Element == UInt8 {
        guard digits.count == 40 else { return nil }
        var bytes: [UInt8] = []
        var high: UInt8? = nil
        for digit in digits {
            let value: UInt8
            switch digit {
            case 48...57: value = digit - 48
            case 97...102: value = digit - 87
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// A name as git writes it: 40 lowercase hexadecimal digits.
    public static func hex(_ id: [UInt8]) -> String { hexText(id) }
}

/// A pack's index, version 2: a fan-out table of 256 counts (names by their
/// first byte), the sorted names, their CRC-32s, their offsets in the pack
/// (31 bits, or an index into a table of 64-bit ones), and two checksums.
/// Only the fan-out and the offsets are kept in memory; a lookup reads the
/// names that share the first byte of the one it looks for.
public struct GitPackIndex {
    static let magic: [UInt8] = [0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2]
    let start: UInt64
    let fanout: [UInt32]
    /// Each object's offset in the pack, in name order.
    let offsets: [UInt64]
    /// The same offsets in pack order, and the pack's end before its checksum: where each entry ends.
    let entryBoundaries: [UInt64]

    public var count: Int { offsets.count }

    /// Reads the index at `start` (`length` bytes) of `source`, for a pack of `packLength` bytes.
    public init(source: some ArchiveSource, at start: UInt64, length: UInt64, packLength: UInt64) throws(KeyValueError) {
        self.start = start
        guard length >= 8 + 1024 + 40, packLength >= 32 else { throw .corrupt }
        let head = try source.read(at: start, count: 8 + 1024)
        guard head[0..<8].elementsEqual(GitPackIndex.magic) else { throw .corrupt }
        var fanout: [UInt32] = []
        fanout.reserveCapacity(256)
        for bucket in 0..<256 {
            let value = readUInt32(head, at: 8 + 4 * bucket)
            guard value >= (fanout.last ?? 0) else { throw .corrupt }
            fanout.append(value)
        }
        self.fanout = fanout
        let count = Int(fanout[255])
        // Names, CRCs and small offsets; then 8 bytes per large offset, then the two checksums.
        let fixed = UInt64(8 + 1024) + UInt64(count) * 28 + 40
        guard count < 1 << 24, fixed <= length, (length - fixed) % 8 == 0 else { throw .corrupt }
        let largeCount = Int((length - fixed) / 8)
        let smallOffsets = try source.read(at: start + UInt64(8 + 1024 + count * 24), count: count * 4)
        let large = try source.read(at: start + UInt64(8 + 1024 + count * 28), count: largeCount * 8)
        var offsets: [UInt64] = []
        offsets.reserveCapacity(count)
        for index in 0..<count {
            let small = readUInt32(smallOffsets, at: 4 * index)
            var offset = UInt64(small)
            if small & 0x8000_0000 != 0 {
                let slot = Int(small & 0x7FFF_FFFF)
                guard slot < largeCount else { throw .corrupt }
                offset = UInt64(readUInt32(large, at: 8 * slot)) << 32 | UInt64(readUInt32(large, at: 8 * slot + 4))
            }
            // Entries start after the pack's 12-byte header and end before its 20-byte checksum.
            guard offset >= 12, offset < packLength - 20 else { throw .corrupt }
            offsets.append(offset)
        }
        self.offsets = offsets
        var boundaries = offsets.sorted()
        boundaries.append(packLength - 20)
        for index in 1..<boundaries.count where boundaries[index] == boundaries[index - 1] { throw .corrupt }
        entryBoundaries = boundaries
    }

    /// The pack offset of the object named `id`, or nil if the pack has none.
    public func find(_ id: [UInt8], in source: some ArchiveSource) throws(KeyValueError) -> UInt64? {
        guard id.count == 20 else { return nil }
        let first = Int(id[0])
        let low = first == 0 ? 0 : Int(fanout[first - 1]), high = Int(fanout[first])
        guard low < high else { return nil }
        let names = try source.read(at: start + UInt64(8 + 1024 + 20 * low), count: 20 * (high - low))
        var lower = 0, upper = high - low
        while lower < upper {
            let middle = (lower + upper) / 2
            let name = names[(20 * middle)..<(20 * middle + 20)]
            if name.elementsEqual(id) { return offsets[low + middle] }
            if name.lexicographicallyPrecedes(id) { lower = middle + 1 } else { upper = middle }
        }
        return nil
    }

    /// Where the entry at `offset` ends: at the next entry, or at the pack's checksum.
    public func end(ofEntryAt offset: UInt64) -> UInt64? {
        var lower = 0, upper = entryBoundaries.count - 1
        while lower < upper {
            let middle = (lower + upper) / 2
            if entryBoundaries[middle] <= offset { lower = middle + 1 } else { upper = middle }
        }
        guard lower > 0, entryBoundaries[lower - 1] == offset else { return nil }
        return entryBoundaries[lower]
    }
}

private func readUInt32(_ bytes: [UInt8], at index: Int) -> UInt32 {
    UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
}
