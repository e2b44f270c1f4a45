/// The littlefs v2 on-disk format (littlefs's SPEC.md, disk version 2.1):
/// metadata pairs of append-only, CRC'd commits of XOR-chained big-endian
/// tags; files inline in their directory's metadata or in CTZ skip-lists of
/// blocks. Pure functions over bytes, unit tested and fuzzed on the host and
/// checked against the reference C littlefs (littlefs-python).
public enum Littlefs {
    public static let null: UInt32 = 0xFFFF_FFFF
    public static let magic: [UInt8] = Array("littlefs".utf8)
    /// Disk version 2.1, as littlefs 2.6 and later write it.
    public static let version: UInt32 = 0x0002_0001

    /// Tag types (type3: 3-bit type1 and 8-bit chunk).
    public enum TagType {
        public static let regular: UInt32 = 0x001, directory: UInt32 = 0x002, superblock: UInt32 = 0x0FF
        public static let create: UInt32 = 0x401, delete: UInt32 = 0x4FF
        public static let directoryStruct: UInt32 = 0x200, inlineStruct: UInt32 = 0x201, ctzStruct: UInt32 = 0x202
        public static let softTail: UInt32 = 0x600, hardTail: UInt32 = 0x601
        public static let moveState: UInt32 = 0x7FF
        public static let commitCRC: UInt32 = 0x500, forwardCRC: UInt32 = 0x5FF
    }

    /// A 32-bit tag: valid bit, 11-bit type, 10-bit id, 10-bit length (0x3FF: deleted).
    public struct Tag: Equatable {
        public var raw: UInt32
        public init(raw: UInt32) { self.raw = raw }
        public init(type: UInt32, id: UInt32, size: UInt32) { raw = type << 20 | (id & 0x3FF) << 10 | (size & 0x3FF) }
        public var isValid: Bool { raw & 0x8000_0000 == 0 }
        public var type: UInt32 { raw >> 20 & 0x7FF }
        public var type1: UInt32 { raw >> 20 & 0x700 }
        public var chunk: UInt32 { raw >> 20 & 0xFF }
        public var id: UInt32 { raw >> 10 & 0x3FF }
        public var size: UInt32 { raw & 0x3FF }
        public var isDeleted: Bool { size == 0x3FF }
        /// Bytes the tag and its data take on disk.
        public var diskSize: Int { 4 + (isDeleted ? 0 : Int(size)) }
    }

    /// CRC-32 as littlefs computes it: reflected polynomial 0x04C11DB7,
    /// started at 0xFFFFFFFF by the caller, no final inversion.
    public static func crc(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        var value = crc
        for byte in bytes {
            value ^= UInt32(byte)
            for _ in 0..<8 { value = value & 1 != 0 ? value >> 1 ^ 0xEDB8_8320 : value >> 1 }
        }
        return value
    }

    static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    static func be32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    static func appendLE32(_ bytes: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    static func appendBE32(_ bytes: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// Whether revision `a` is newer than `b`, in sequence arithmetic.
    public static func isNewer(_ a: UInt32, than b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }

    /// The global state: a pending move (the source's pair and id) and the
    /// count of orphaned metadata pairs, XOR-summed over every pair's delta.
    public struct GlobalState: Equatable {
        public var tag: UInt32 = 0
        public var pair: (UInt32, UInt32) = (0, 0)
        public init() {}
        public init(bytes: [UInt8]) {
            guard bytes.count >= 12 else { return }
            tag = Littlefs.le32(bytes, 0)
            pair = (Littlefs.le32(bytes, 4), Littlefs.le32(bytes, 8))
        }
        public var bytes: [UInt8] {
            var bytes: [UInt8] = []
            Littlefs.appendLE32(&bytes, tag)
            Littlefs.appendLE32(&bytes, pair.0)
            Littlefs.appendLE32(&bytes, pair.1)
            return bytes
        }
        public var isZero: Bool { tag == 0 && pair.0 == 0 && pair.1 == 0 }
        public static func ^ (a: GlobalState, b: GlobalState) -> GlobalState {
            var result = GlobalState()
            result.tag = a.tag ^ b.tag
            result.pair = (a.pair.0 ^ b.pair.0, a.pair.1 ^ b.pair.1)
            return result
        }
        public static func == (a: GlobalState, b: GlobalState) -> Bool { a.tag == b.tag && a.pair == b.pair }
        /// A move in progress: the entry `id` of the pair `pair` is its source, to be deleted.
        public var hasMove: Bool { Tag(raw: tag).type1 != 0 }
        public var moveID: UInt32 { Tag(raw: tag).id }
        public var orphans: UInt32 { tag & 0x1FF }
        public mutating func setMove(pair: (UInt32, UInt32), id: UInt32) {
            tag = Tag(type: TagType.delete, id: id, size: orphans).raw
            self.pair = pair
        }
        public mutating func clearMove() {
            tag = orphans
            pair = (0, 0)
        }
        public mutating func setOrphans(_ count: UInt32) { tag = tag & ~0x1FF | count & 0x1FF }
    }

    /// One file, directory or superblock entry of a metadata pair.
    public struct Entry: Equatable {
        public var name: [UInt8]
        /// `TagType.regular`, `.directory` or `.superblock`.
        public var type: UInt32
        /// `TagType.inlineStruct`, `.ctzStruct` or `.directoryStruct`, with its data.
        public var structType: UInt32
        public var structData: [UInt8]
        /// User attributes (type 0x3xx), kept as they are.
        public var attributes: [(type: UInt32, data: [UInt8])]

        public init(name: [UInt8], type: UInt32, structType: UInt32, structData: [UInt8], attributes: [(type: UInt32, data: [UInt8])] = []) {
            self.name = name
            self.type = type
            self.structType = structType
            self.structData = structData
            self.attributes = attributes
        }

        public static func == (a: Entry, b: Entry) -> Bool {
            a.name == b.name && a.type == b.type && a.structType == b.structType && a.structData == b.structData
                && a.attributes.elementsEqual(b.attributes) { $0.type == $1.type && $0.data == $1.data }
        }

        /// The CTZ list's head and the file's size.
        public var ctz: (head: UInt32, size: UInt32)? {
            guard structType == TagType.ctzStruct, structData.count == 8 else { return nil }
            return (Littlefs.le32(structData, 0), Littlefs.le32(structData, 4))
        }

        /// The directory's first metadata pair.
        public var directoryPair: (UInt32, UInt32)? {
            guard structType == TagType.directoryStruct, structData.count == 8 else { return nil }
            return (Littlefs.le32(structData, 0), Littlefs.le32(structData, 4))
        }

        public static func pairData(_ pair: (UInt32, UInt32)) -> [UInt8] {
            var data: [UInt8] = []
            Littlefs.appendLE32(&data, pair.0)
            Littlefs.appendLE32(&data, pair.1)
            return data
        }
    }

    /// What a metadata block holds after its last valid commit.
    public struct Metadata: Equatable {
        public var revision: UInt32 = 0
        public var entries: [Entry] = []
        public var tail: (UInt32, UInt32)?
        /// The tail continues this directory (a split), rather than the next directory.
        public var isHardTail = false
        public var gdelta = GlobalState()
        public init() {}
        public static func == (a: Metadata, b: Metadata) -> Bool {
            a.revision == b.revision && a.entries == b.entries && a.tail.map { [$0.0, $0.1] } == b.tail.map { [$0.0, $0.1] }
                && a.isHardTail == b.isHardTail && a.gdelta == b.gdelta
        }
    }

    /// Reads a metadata block: the state after its last commit whose CRC
    /// holds, or nil if no commit does (an erased, torn or foreign block).
    public static func parse(block: [UInt8]) -> Metadata? {
        guard block.count >= 8 else { return nil }
        var committed: Metadata?
        var working = Metadata()
        working.revision = le32(block, 0)
        var crcValue = crc(0xFFFF_FFFF, block[0..<4])
        var previous = Tag(raw: 0xFFFF_FFFF)
        var offset = 4
        while offset + 4 <= block.count {
            let stored = be32(block, offset)
            let tag = Tag(raw: stored ^ previous.raw)
            guard tag.isValid, offset + tag.diskSize <= block.count else { break }
            crcValue = crc(crcValue, block[offset..<(offset + 4)])
            previous = tag
            let dataStart = offset + 4, data = block[dataStart..<(dataStart + (tag.isDeleted ? 0 : Int(tag.size)))]
            if tag.type1 == 0x500 && tag.type != TagType.forwardCRC {
                guard data.count >= 4, le32(block, dataStart) == crcValue else { break }
                previous.raw ^= (tag.chunk & 1) << 31
                committed = working
                crcValue = 0xFFFF_FFFF
                offset += tag.diskSize
                continue
            }
            crcValue = crc(crcValue, data)
            apply(tag, Array(data), to: &working)
            offset += tag.diskSize
        }
        return committed
    }

    /// One tag's change to a metadata block's state.
    static func apply(_ tag: Tag, _ data: [UInt8], to state: inout Metadata) {
        let id = Int(tag.id)
        switch tag.type1 {
        case 0x000 where tag.id != 0x3FF:
            while state.entries.count <= id { state.entries.append(Entry(name: [], type: 0, structType: 0, structData: [])) }
            state.entries[id].name = data
            state.entries[id].type = tag.type
        case 0x400 where tag.type == TagType.create:
            if id <= state.entries.count { state.entries.insert(Entry(name: [], type: 0, structType: 0, structData: []), at: id) }
        case 0x400 where tag.type == TagType.delete:
            if id < state.entries.count { state.entries.remove(at: id) }
        case 0x200 where id < state.entries.count:
            if !tag.isDeleted {
                state.entries[id].structType = tag.type
                state.entries[id].structData = data
            }
        case 0x300 where id < state.entries.count:
            state.entries[id].attributes.removeAll { $0.type == tag.type }
            if !tag.isDeleted { state.entries[id].attributes.append((tag.type, data)) }
        case 0x600:
            guard data.count == 8 else { return }
            let pair = (le32(data, 0), le32(data, 4))
            state.tail = pair.0 == null && pair.1 == null ? nil : pair
            state.isHardTail = tag.chunk & 1 != 0
        case 0x700 where tag.type == TagType.moveState:
            state.gdelta = GlobalState(bytes: data)
        default:
            break
        }
    }

    /// `state` as one compacted commit filling a block of `blockSize`
    /// bytes (its CRC tags pad it to the end), or nil if it does not fit.
    public static func encode(_ state: Metadata, blockSize: Int) -> [UInt8]? {
        var block: [UInt8] = []
        appendLE32(&block, state.revision)
        var previous: UInt32 = 0xFFFF_FFFF
        var crcValue = crc(0xFFFF_FFFF, block[0..<4])
        func put(_ tag: Tag, _ data: [UInt8]) {
            let start = block.count
            appendBE32(&block, tag.raw ^ previous)
            previous = tag.raw
            block += data
            crcValue = crc(crcValue, block[start...])
        }
        for (index, entry) in state.entries.enumerated() {
            let id = UInt32(index)
            guard entry.name.count < 0x3FF, entry.structData.count < 0x3FF else { return nil }
            put(Tag(type: entry.type, id: id, size: UInt32(entry.name.count)), entry.name)
            put(Tag(type: entry.structType, id: id, size: UInt32(entry.structData.count)), entry.structData)
            for attribute in entry.attributes { put(Tag(type: attribute.type, id: id, size: UInt32(attribute.data.count)), attribute.data) }
        }
        if let tail = state.tail {
            put(Tag(type: state.isHardTail ? TagType.hardTail : TagType.softTail, id: 0x3FF, size: 8), Entry.pairData(tail))
        }
        if !state.gdelta.isZero { put(Tag(type: TagType.moveState, id: 0x3FF, size: 12), state.gdelta.bytes) }
        // CRC tags, each padding at most 0x3FE bytes, to the end of the block.
        while block.count < blockSize {
            let start = block.count
            guard blockSize - start >= 8 else { return nil }
            var end = min(blockSize, start + 4 + 0x3FE)
            if end < blockSize { end = min(end, blockSize - 20) }
            let tag = Tag(type: TagType.commitCRC, id: 0x3FF, size: UInt32(end - start - 4))
            appendBE32(&block, tag.raw ^ previous)
            previous = tag.raw
            crcValue = crc(crcValue, block[start...])
            appendLE32(&block, crcValue)
            block += [UInt8](repeating: 0, count: end - block.count)
            crcValue = 0xFFFF_FFFF
        }
        return block.count == blockSize ? block : nil
    }

    /// The superblock's inline struct.
    public struct Superblock: Equatable {
        public var version: UInt32, blockSize: UInt32, blockCount: UInt32, nameMax: UInt32, fileMax: UInt32, attributeMax: UInt32

        public init(blockSize: UInt32, blockCount: UInt32) {
            version = Littlefs.version
            self.blockSize = blockSize
            self.blockCount = blockCount
            nameMax = 255
            fileMax = 0x7FFF_FFFF
            attributeMax = 0x3FE
        }

        public init?(_ entry: Entry) {
            guard entry.type == TagType.superblock, entry.name == Littlefs.magic,
                  entry.structType == TagType.inlineStruct, entry.structData.count >= 24 else { return nil }
            let data = entry.structData
            version = le32(data, 0); blockSize = le32(data, 4); blockCount = le32(data, 8)
            nameMax = le32(data, 12); fileMax = le32(data, 16); attributeMax = le32(data, 20)
        }

        public var entry: Entry {
            var data: [UInt8] = []
            for value in [version, blockSize, blockCount, nameMax, fileMax, attributeMax] { Littlefs.appendLE32(&data, value) }
            return Entry(name: Littlefs.magic, type: TagType.superblock, structType: TagType.inlineStruct, structData: data)
        }
    }

    // CTZ skip-lists (littlefs's DESIGN.md): block i of a file (i > 0)
    // starts with ctz(i) + 1 pointers, to blocks i - 2^k; its data follows.

    /// The index of the block holding file offset `offset`, and the offset inside that block.
    public static func ctzIndex(_ offset: UInt32, blockSize: UInt32) -> (index: UInt32, offset: UInt32) {
        let usable = blockSize - 8
        var index = offset / usable
        guard index > 0 else { return (0, offset) }
        index = (offset - 4 * (UInt32((index - 1).nonzeroBitCount) + 2)) / usable
        return (index, offset - usable * index - 4 * UInt32(index.nonzeroBitCount))
    }

    /// How many pointers block `index` of a file starts with.
    public static func ctzPointers(_ index: UInt32) -> Int { index == 0 ? 0 : index.trailingZeroBitCount + 1 }

    /// The number of blocks a file of `size` bytes takes.
    public static func ctzBlockCount(size: UInt32, blockSize: UInt32) -> UInt32 {
        size == 0 ? 0 : ctzIndex(size - 1, blockSize: blockSize).index + 1
    }
}
