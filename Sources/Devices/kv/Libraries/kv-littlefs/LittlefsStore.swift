/// A read-write key-value store in littlefs v2 format on a block device, so
/// that littlefs itself (littlefs-python on the host, or any littlefs
/// port) reads what the unikernel wrote and writes what it reads.
///
/// Power-loss safety is littlefs's: every change to a directory is one
/// CRC'd commit written into the other block of its metadata pair with a
/// higher revision, so a torn write leaves the previous state readable;
/// file data goes to newly allocated blocks (copy-on-write) and is flushed
/// before the commit that points to it; a change is acknowledged only after
/// its commit is flushed. Moves across directories and directory removals
/// take two commits, bridged by littlefs's global state (a pending move, an
/// orphan count) that the next mount completes.
///
/// This writer always compacts (one commit per metadata block), splits a
/// directory's metadata when it outgrows a block, and adds new entries to
/// the last metadata pair of their directory, in name order there.
public final class LittlefsStore<Device: BlockDevice>: KeyValueWriter {
    let device: Device
    /// One operation at a time: an operation that waits for the disk parks
    /// its task, and another task must not see the store half changed.
    let lock = TaskLock()
    var blockSize = 512
    var blockCount: UInt32 = 0
    var nameMax: UInt32 = 255
    /// The root directory's first metadata pair (the last superblock pair).
    var root: (UInt32, UInt32) = (0, 1)
    var global = Littlefs.GlobalState()
    /// Which blocks are in use, from a traversal at mount, kept up to date.
    var used = BlockBitmap(count: 0)
    var cursor: UInt32 = 0
    /// Why the store is unusable, if it is.
    public private(set) var failure: KeyValueError?
    /// Whether it formatted a blank disk at start.
    public private(set) var formatted = false

    /// A metadata pair as read: its blocks, which one holds the state, the state.
    struct Pair {
        var blocks: (UInt32, UInt32)
        var active: Int
        var state: Littlefs.Metadata
        func same(_ other: (UInt32, UInt32)) -> Bool { Littlefs.samePair(blocks, other) }
    }

    public init(device: Device) {
        self.device = device
        do throws(KeyValueError) { try mount() } catch { failure = error }
    }

    /// The most bytes read or written at once: consecutive blocks go together
    /// (one request where the device DMAs the buffer itself, 64 KiB pieces elsewhere).
    let runBytes = 256 * 1024

    /// Whether a run of blocks moves scattered (read) and gathered (written):
    /// each block's data straight between its place in the value and the
    /// disk, its pointers aside, which a device that DMAs does with no copy.
    /// Small blocks go through one buffer and are copied instead: QEMU maps
    /// each piece of a request on its own, which costs more than copying a
    /// few hundred bytes. Measured on virt, a 1 MiB get: 4 KiB blocks 727
    /// MiB/s scattered, 575 copied; 512-byte blocks 205 scattered, 365 copied.
    var scatters: Bool { blockSize >= 2048 }

    var inlineMax: Int { min(0x3FE, blockSize / 8) }

    // MARK: Blocks

    func readBlock(_ block: UInt32) throws(KeyValueError) -> [UInt8] {
        guard block < blockCount else { throw .corrupt }
        do throws(BlockError) {
            return try device.read(sector: UInt64(block) * UInt64(blockSize / 512), count: blockSize / 512)
        } catch { throw .device(error) }
    }

    func writeBlock(_ block: UInt32, _ bytes: [UInt8]) throws(KeyValueError) {
        guard block < blockCount, bytes.count == blockSize else { throw .corrupt }
        do throws(BlockError) { try device.write(sector: UInt64(block) * UInt64(blockSize / 512), bytes) } catch { throw .device(error) }
    }

    /// Blocks read together: a file is usually written to consecutive
    /// blocks and walked from its last block back to its first, so a read
    /// of one block takes the blocks before it along, up to `runBytes`, in
    /// case they come next.
    struct BlockRun {
        var first: UInt32 = 0
        var bytes: [UInt8] = []
    }

    /// Where `block` starts in `run.bytes`; if the run does not hold it,
    /// reads it with up to `more - 1` blocks before it into the run first.
    func locate(_ block: UInt32, wanting more: UInt32, in run: inout BlockRun) throws(KeyValueError) -> Int {
        guard block < blockCount else { throw .corrupt }
        if block < run.first || Int(block - run.first) >= run.bytes.count / blockSize {
            let count = min(block + 1, max(1, min(more, UInt32(runBytes / blockSize))))
            run.first = block + 1 - count
            do throws(BlockError) {
                run.bytes = try device.read(sector: UInt64(run.first) * UInt64(blockSize / 512), count: Int(count) * blockSize / 512)
            } catch { throw .device(error) }
        }
        return Int(block - run.first) * blockSize
    }

    func flush() throws(KeyValueError) {
        do throws(BlockError) { try device.flush() } catch { throw .device(error) }
    }

    func allocate() throws(KeyValueError) -> UInt32 {
        for step in 0..<blockCount {
            let block = (cursor + step) % blockCount
            if !used[block] {
                used[block] = true
                cursor = (block + 1) % blockCount
                return block
            }
        }
        throw .noSpace
    }

    func release(_ blocks: [UInt32]) {
        for block in blocks where block < blockCount { used[block] = false }
    }

    // MARK: Mount, format, traversal

    func mount() throws(KeyValueError) {
        let geometry = device.geometry
        guard geometry.sectorCount > 0 else { throw .device(.noMedium) }
        guard geometry.sectorSize == 512 else { throw .corrupt }
        let sectors = geometry.sectorCount
        let first = try sector(0)
        if first.allSatisfy({ $0 == 0 }), try sector(1).allSatisfy({ $0 == 0 }) {
            guard !geometry.isReadOnly else { throw .corrupt }
            try format(sectors: sectors)
            formatted = true
            return
        }
        // The block size is in the superblock, in either block of the pair
        // {0, 1}: the first block, or (if it is torn) the second, found by trying sizes.
        var size: UInt32?
        if Array(first[8..<16]) == Littlefs.magic { size = Littlefs.le32(first, 24) }
        var candidate: UInt64 = 512
        while size == nil && candidate <= 65536 && candidate / 512 < sectors {
            let second = try sector(candidate / 512)
            if Array(second[8..<16]) == Littlefs.magic { size = Littlefs.le32(second, 24) }
            candidate *= 2
        }
        guard let size, size >= 512, size % 512 == 0, size <= 65536 else { throw .corrupt }
        blockSize = Int(size)
        blockCount = UInt32(min(sectors / UInt64(size / 512), UInt64(UInt32.max)))
        let rootPair = try fetch((0, 1))
        guard let superblock = rootPair.state.entries.first.flatMap(Littlefs.Superblock.init),
              superblock.version >> 16 == 2, superblock.blockSize == size else { throw .corrupt }
        guard superblock.blockCount <= blockCount else { throw .corrupt }
        blockCount = superblock.blockCount
        nameMax = min(superblock.nameMax, 255)
        try traverse()
        if global.hasMove && !geometry.isReadOnly { try completeMove() }
        if global.orphans > 0 && !geometry.isReadOnly { try removeOrphans() }
    }

    func sector(_ index: UInt64) throws(KeyValueError) -> [UInt8] {
        do throws(BlockError) { return try device.read(sector: index, count: 1) } catch { throw .device(error) }
    }

    /// Makes an empty littlefs over the disk's `sectors`: 512-byte blocks up
    /// to 32 MiB, 4 KiB blocks above (fewer blocks to track); the superblock
    /// and root in the pair {0, 1}, both blocks written.
    func format(sectors: UInt64) throws(KeyValueError) {
        blockSize = sectors <= 65536 ? 512 : 4096
        let count = UInt32(min(sectors / UInt64(blockSize / 512), UInt64(UInt32.max)))
        guard count >= 8 else { throw .noSpace }
        blockCount = count
        used = BlockBitmap(count: count)
        used[0] = true
        used[1] = true
        var state = Littlefs.Metadata()
        state.entries = [Littlefs.Superblock(blockSize: UInt32(blockSize), blockCount: count).entry]
        for (block, revision) in [(UInt32(1), UInt32(1)), (0, 2)] {
            state.revision = revision
            guard let bytes = Littlefs.encode(state, blockSize: blockSize) else { throw .noSpace }
            try writeBlock(block, bytes)
        }
        try flush()
        root = (0, 1)
        global = Littlefs.GlobalState()
    }

    /// Reads a metadata pair: the block with the newer revision among those with a valid commit.
    func fetch(_ blocks: (UInt32, UInt32)) throws(KeyValueError) -> Pair {
        let first = Littlefs.parse(block: try readBlock(blocks.0))
        let second = Littlefs.parse(block: try readBlock(blocks.1))
        switch (first, second) {
        case let (a?, b?): return Littlefs.isNewer(b.revision, than: a.revision) ? Pair(blocks: blocks, active: 1, state: b)
                                                                                 : Pair(blocks: blocks, active: 0, state: a)
        case let (a?, nil): return Pair(blocks: blocks, active: 0, state: a)
        case let (nil, b?): return Pair(blocks: blocks, active: 1, state: b)
        case (nil, nil): throw .corrupt
        }
    }

    /// Walks the threaded list of every metadata pair: finds the root,
    /// XOR-sums the global state, and marks every block in use.
    func traverse() throws(KeyValueError) {
        used = BlockBitmap(count: blockCount)
        global = Littlefs.GlobalState()
        var next: (UInt32, UInt32)? = (0, 1)
        var steps = 0
        var inSuperblocks = true
        while let blocks = next {
            steps += 1
            guard steps <= Int(blockCount), blocks.0 < blockCount, blocks.1 < blockCount else { throw .corrupt }
            let pair = try fetch(blocks)
            if inSuperblocks {
                if pair.state.entries.first.flatMap(Littlefs.Superblock.init) != nil { root = blocks } else { inSuperblocks = false }
            }
            used[blocks.0] = true
            used[blocks.1] = true
            global = global ^ pair.state.gdelta
            for entry in pair.state.entries {
                guard let ctz = entry.ctz else { continue }
                for block in try fileBlocks(head: ctz.head, size: ctz.size) { used[block] = true }
            }
            next = pair.state.tail
        }
        cursor = blockCount > 0 ? UInt32(steps) * 7 % blockCount : 0
    }

    /// Every block of a CTZ file, last first.
    func fileBlocks(head: UInt32, size: UInt32) throws(KeyValueError) -> [UInt32] {
        var blocks: [UInt32] = []
        var index = Littlefs.ctzBlockCount(size: size, blockSize: UInt32(blockSize))
        var block = head
        var run = BlockRun()
        while index > 0 {
            guard block < blockCount, blocks.count < Int(blockCount) else { throw .corrupt }
            blocks.append(block)
            index -= 1
            if index > 0 {
                let base = try locate(block, wanting: index + 1, in: &run)
                block = Littlefs.le32(run.bytes, base)
            }
        }
        return blocks
    }

    // MARK: Directories

    /// The metadata pairs of the directory starting at `first`, in order.
    func chain(_ first: (UInt32, UInt32)) throws(KeyValueError) -> [Pair] {
        var pairs = [try fetch(first)]
        while pairs[pairs.count - 1].state.isHardTail, let tail = pairs[pairs.count - 1].state.tail {
            guard pairs.count <= Int(blockCount) else { throw .corrupt }
            pairs.append(try fetch(tail))
        }
        return pairs
    }

    /// Whether entry `id` of `pair` is the source of a pending move (deleted, in effect).
    func isMoveSource(_ pair: Pair, _ id: Int) -> Bool {
        global.hasMove && pair.same(global.pair) && Int(global.moveID) == id
    }

    /// The entries a directory shows: files and directories, not the superblock or a moved-away source.
    func visible(_ pair: Pair) -> [(id: Int, entry: Littlefs.Entry)] {
        var result: [(id: Int, entry: Littlefs.Entry)] = []
        for (id, entry) in pair.state.entries.enumerated()
            where (entry.type == Littlefs.TagType.regular || entry.type == Littlefs.TagType.directory) && !isMoveSource(pair, id) {
            result.append((id, entry))
        }
        return result
    }

    /// Finds `name` in the directory starting at `first`: the pair and id holding it.
    func find(_ name: [UInt8], in first: (UInt32, UInt32)) throws(KeyValueError) -> (pair: Pair, id: Int)? {
        for pair in try chain(first) {
            if let found = visible(pair).first(where: { $0.entry.name == name }) { return (pair, found.id) }
        }
        return nil
    }

    /// The first pair of the directory at `parts`; nil if a part is missing.
    func directory(_ parts: ArraySlice<Substring>) throws(KeyValueError) -> (UInt32, UInt32)? {
        var current = root
        for part in parts {
            guard let (pair, id) = try find(Array(part.utf8), in: current) else { return nil }
            guard let next = pair.state.entries[id].directoryPair else { throw .wrongKind }
            current = next
        }
        return current
    }

    /// The entry at `key`, with where it is.
    func lookup(_ key: String) throws(KeyValueError) -> (pair: Pair, id: Int, entry: Littlefs.Entry)? {
        let parts = KeyPath.parts(key)
        guard let last = parts.last else { return nil }
        guard let parent = try directory(parts.dropLast()) else { return nil }
        guard let (pair, id) = try find(Array(last.utf8), in: parent) else { return nil }
        return (pair, id, pair.state.entries[id])
    }

    // MARK: Reading

    func checked() throws(KeyValueError) {
        if let failure { throw failure }
    }

    func existsHoldingLock(_ key: String) throws(KeyValueError) -> KeyValueKind? {
        try checked()
        if KeyPath.parts(key).isEmpty { return .dictionary }
        do throws(KeyValueError) {
            guard let found = try lookup(key) else { return nil }
            return found.entry.type == Littlefs.TagType.directory ? .dictionary : .value
        } catch {
            if error == .wrongKind { return nil }   // a value on the way: nothing under it
            throw error
        }
    }

    func file(_ key: String) throws(KeyValueError) -> Littlefs.Entry {
        try checked()
        guard let found = try lookup(key) else { throw KeyPath.parts(key).isEmpty ? .wrongKind : .notFound }
        guard found.entry.type == Littlefs.TagType.regular else { throw .wrongKind }
        return found.entry
    }

    func sizeHoldingLock(_ key: String) throws(KeyValueError) -> Int {
        let entry = try file(key)
        if let ctz = entry.ctz { return Int(ctz.size) }
        return entry.structData.count
    }

    func getHoldingLock(_ key: String) throws(KeyValueError) -> [UInt8] {
        try getHoldingLock(key, offset: 0, length: Int.max)
    }

    func getHoldingLock(_ key: String, offset: Int, length: Int) throws(KeyValueError) -> [UInt8] {
        guard offset >= 0, length >= 0 else { throw .invalidKey }
        let entry = try file(key)
        guard let ctz = entry.ctz else {
            guard entry.structType == Littlefs.TagType.inlineStruct else { throw .corrupt }
            guard offset < entry.structData.count else { return [] }
            return Array(entry.structData[offset..<(offset + min(length, entry.structData.count - offset))])
        }
        let size = Int(ctz.size)
        guard offset < size, length > 0 else { return [] }
        let end = offset + min(length, size - offset)
        return try readFile(head: ctz.head, size: ctz.size, from: UInt32(offset), to: UInt32(end))
    }

    /// Bytes `start..<end` of a CTZ file: the skip-list to the last block
    /// needed, then back along the first pointers to the first. A file is
    /// usually in consecutive blocks, so the blocks before one are read
    /// together, up to `runBytes`, on that guess, each block's data put at
    /// its place in the value (see `scatters`). Each block's first pointer
    /// then says whether the guess held; where it did not, the walk goes on
    /// from the block it names, and reads there again what the guess put in
    /// the value.
    func readFile(head: UInt32, size: UInt32, from start: UInt32, to end: UInt32) throws(KeyValueError) -> [UInt8] {
        let bs = UInt32(blockSize)
        let last = Littlefs.ctzIndex(end - 1, blockSize: bs)
        let first = Littlefs.ctzIndex(start, blockSize: bs)
        var block = head
        var current = Littlefs.ctzIndex(size - 1, blockSize: bs).index
        var data = try readBlock(block)
        while current > last.index {
            let distance = current - last.index + 1
            let skip = min(UInt32(32 - (distance - 1).leadingZeroBitCount) - 1, UInt32(current.trailingZeroBitCount))
            block = Littlefs.le32(data, Int(4 * skip))
            guard block < blockCount else { throw .corrupt }
            data = try readBlock(block)
            current -= 1 << skip
        }
        /// The bytes of block `index` that belong in the value.
        func share(_ index: UInt32) -> (from: Int, to: Int) {
            (index == first.index ? Int(first.offset) : 4 * Littlefs.ctzPointers(index),
             index == last.index ? Int(last.offset) + 1 : blockSize)
        }
        return try filledBytes(count: Int(end - start)) { value throws(KeyValueError) in
            guard scatters else {
                // Small blocks: runs read whole, each block's share copied out.
                // `run.bytes[base...]` is the block `current`.
                var run = BlockRun(first: block, bytes: data)
                var base = 0, position = value.count
                while true {
                    let (from, to) = share(current)
                    guard from <= to, to <= blockSize, to - from <= position else { throw .corrupt }
                    position -= to - from
                    run.bytes.withUnsafeBytes { source in
                        (value.baseAddress! + position).copyMemory(from: source.baseAddress! + base + from, byteCount: to - from)
                    }
                    if current == first.index { break }
                    block = Littlefs.le32(run.bytes, base)
                    current -= 1
                    base = try locate(block, wanting: current - first.index + 1, in: &run)
                }
                guard position == 0 else { throw .corrupt }
                return
            }
            // The last block is in hand already.
            var (from, to) = share(current)
            guard from <= to, to <= blockSize, to - from <= value.count else { throw .corrupt }
            var position = value.count - (to - from)
            data.withUnsafeBytes { source in
                (value.baseAddress! + position).copyMemory(from: source.baseAddress! + from, byteCount: to - from)
            }
            guard current > first.index else {
                guard position == 0 else { throw .corrupt }
                return
            }
            block = Littlefs.le32(data, 0)
            current -= 1
            while true {
                // Blocks `block - count + 1 ... block`, guessed to hold `current - count + 1 ... current`.
                guard block < blockCount else { throw .corrupt }
                let count = min(block + 1, current - first.index + 1, UInt32(max(1, runBytes / blockSize)))
                // Large blocks: each block's share read straight into its place
                // in the value, the rest of it aside (its first pointer first).
                var positions: [Int] = [], firstPointers: [Int] = [], asideBytes = 0
                positions.reserveCapacity(Int(count))
                firstPointers.reserveCapacity(Int(count))
                var at = position
                for step in 0..<count {
                    (from, to) = share(current - step)
                    guard from <= to, to <= blockSize, to - from <= at else { throw .corrupt }
                    at -= to - from
                    positions.append(at)
                    firstPointers.append(asideBytes)
                    asideBytes += from + (blockSize - to)
                }
                var aside = filledBytes(count: asideBytes) { _ in }
                var failure: BlockError?
                aside.withUnsafeMutableBytes { asideBuffer in
                    var pieces: [UnsafeMutableRawBufferPointer] = []
                    pieces.reserveCapacity(3 * Int(count))
                    // In disk order: the lowest block (the last guessed) first.
                    for step in (0..<Int(count)).reversed() {
                        (from, to) = share(current - UInt32(step))
                        let base = asideBuffer.baseAddress! + firstPointers[step]
                        pieces.append(UnsafeMutableRawBufferPointer(start: base, count: from))
                        pieces.append(UnsafeMutableRawBufferPointer(start: value.baseAddress! + positions[step], count: to - from))
                        pieces.append(UnsafeMutableRawBufferPointer(start: base + from, count: blockSize - to))
                    }
                    do throws(BlockError) {
                        try device.read(sector: UInt64(block + 1 - count) * UInt64(blockSize / 512), scattering: pieces)
                    } catch { failure = error }
                }
                if let failure { throw .device(failure) }
                // Follow the first pointers while they name the block before.
                for step in 0..<count {
                    position = positions[Int(step)]
                    if current == first.index {
                        guard position == 0 else { throw .corrupt }
                        return
                    }
                    let previous = Littlefs.le32(aside, firstPointers[Int(step)])
                    current -= 1
                    if step + 1 == count || previous != block - step - 1 {
                        block = previous
                        break
                    }
                }
            }
        }
    }

    func listHoldingLock(_ key: String) throws(KeyValueError) -> [KeyValueEntry] {
        try checked()
        let parts = KeyPath.parts(key)
        guard let first = try directory(parts[...]) else { throw .notFound }
        var entries: [KeyValueEntry] = []
        for pair in try chain(first) {
            for (_, entry) in visible(pair) {
                entries.append(KeyValueEntry(name: String(decoding: entry.name, as: UTF8.self),
                                             kind: entry.type == Littlefs.TagType.directory ? .dictionary : .value))
            }
        }
        return entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    func freeSpaceHoldingLock() throws(KeyValueError) -> Int {
        try checked()
        return (Int(blockCount) - used.count) * blockSize
    }

    // MARK: Writing

    func writable() throws(KeyValueError) {
        try checked()
        if device.geometry.isReadOnly { throw .readOnly }
    }

    /// Runs a change; if it fails part-way, the blocks it allocated are
    /// found free again by a fresh traversal (what is on disk is consistent).
    func change(_ body: () throws(KeyValueError) -> Void) throws(KeyValueError) {
        try writable()
        do throws(KeyValueError) { try body() } catch {
            do throws(KeyValueError) { try traverse() } catch { failure = error }
            throw error
        }
    }

    /// Writes `state` as the pair's next commit, in its other block, and
    /// flushes; splits it into a new pair first if it does not fit.
    func commit(_ pair: inout Pair, _ state: Littlefs.Metadata) throws(KeyValueError) {
        var state = state
        state.revision = pair.state.revision &+ 1
        if Littlefs.encode(state, blockSize: blockSize) == nil {
            let keep = max(1, state.entries.count / 2)
            guard state.entries.count > 1 else { throw .noSpace }
            var rest = Littlefs.Metadata()
            rest.entries = Array(state.entries[keep...])
            rest.tail = state.tail
            rest.isHardTail = state.isHardTail
            var split = try newPair()
            try commit(&split, rest)
            state.entries = Array(state.entries[..<keep])
            state.tail = split.blocks
            state.isHardTail = true
        }
        guard let bytes = Littlefs.encode(state, blockSize: blockSize) else { throw .noSpace }
        let target = pair.active == 0 ? pair.blocks.1 : pair.blocks.0
        try writeBlock(target, bytes)
        try flush()
        pair.active = 1 - pair.active
        pair.state = state
    }

    /// Commits `state` to `pair` and moves the global state to `newGlobal` with it.
    func commit(_ pair: inout Pair, _ state: Littlefs.Metadata, global newGlobal: Littlefs.GlobalState) throws(KeyValueError) {
        var state = state
        state.gdelta = state.gdelta ^ global ^ newGlobal
        try commit(&pair, state)
        global = newGlobal
    }

    /// Two fresh blocks, with a revision above whatever they held before.
    func newPair() throws(KeyValueError) -> Pair {
        let blocks = (try allocate(), try allocate())
        var stale: UInt32 = 0
        for block in [blocks.0, blocks.1] {
            let revision = Littlefs.le32(try readBlock(block), 0)
            if Littlefs.isNewer(revision, than: stale) { stale = revision }
        }
        var state = Littlefs.Metadata()
        state.revision = stale
        return Pair(blocks: blocks, active: 1, state: state)   // the first commit goes to blocks.0
    }

    /// Where a new entry named `name` goes in `state`: after those that sort before it (never before the superblock).
    func insertionIndex(_ name: [UInt8], in state: Littlefs.Metadata) -> Int {
        var index = state.entries.count
        for (id, entry) in state.entries.enumerated().reversed() where entry.type != Littlefs.TagType.superblock {
            if Littlefs.sortsBefore(name, entry.name) { index = id }
        }
        return index
    }

    /// Where `name` is or would go in the directory starting at `first`: the
    /// pair holding it, or the first pair with a name that sorts after it
    /// (else the last), as littlefs keeps a directory in name order across its pairs.
    func placement(_ name: [UInt8], in first: (UInt32, UInt32)) throws(KeyValueError) -> (pair: Pair, id: Int?) {
        let pairs = try chain(first)
        for pair in pairs {
            if let found = visible(pair).first(where: { $0.entry.name == name }) { return (pair, found.id) }
        }
        for pair in pairs where visible(pair).contains(where: { Littlefs.sortsBefore(name, $0.entry.name) }) { return (pair, nil) }
        return (pairs[pairs.count - 1], nil)
    }

    /// Puts `entry` into the directory starting at `first`: over the entry of
    /// that name, or in name order. Returns the blocks the replaced entry
    /// used, to free once committed.
    func put(_ entry: Littlefs.Entry, in first: (UInt32, UInt32), global newGlobal: Littlefs.GlobalState? = nil) throws(KeyValueError) -> [UInt32] {
        var freed: [UInt32] = []
        var (pair, id) = try placement(entry.name, in: first)
        var state = pair.state
        if let id {
            if let ctz = state.entries[id].ctz { freed = try fileBlocks(head: ctz.head, size: ctz.size) }
            state.entries[id] = entry
        } else {
            state.entries.insert(entry, at: insertionIndex(entry.name, in: state))
        }
        try commit(&pair, state, global: newGlobal ?? global)
        return freed
    }

    /// The directory at `parts`, made (with its parents) if missing.
    func makeDirectories(_ parts: ArraySlice<Substring>) throws(KeyValueError) -> (UInt32, UInt32) {
        var current = root
        for part in parts {
            let name = try checkedName(part)
            if let (pair, id) = try find(name, in: current) {
                guard let next = pair.state.entries[id].directoryPair else { throw .wrongKind }
                current = next
                continue
            }
            // The new directory joins the threaded list after the parent's
            // last pair; its entry goes where its name sorts. One commit when
            // that is the same pair; else the list first, the new pairs an
            // orphan until the entry is committed (a mount in between unlinks them).
            var last = try chain(current).last!
            var directory = try newPair()
            var empty = Littlefs.Metadata()
            empty.tail = last.state.tail
            try commit(&directory, empty)
            let entry = Littlefs.Entry(name: name, type: Littlefs.TagType.directory, structType: Littlefs.TagType.directoryStruct,
                                       structData: Littlefs.Entry.pairData(directory.blocks))
            var (pair, _) = try placement(name, in: current)
            if pair.same(last.blocks) {
                var state = pair.state
                state.entries.insert(entry, at: insertionIndex(name, in: state))
                state.tail = directory.blocks
                state.isHardTail = false
                try commit(&pair, state)
            } else {
                var linked = last.state
                linked.tail = directory.blocks
                linked.isHardTail = false
                var orphaned = global
                orphaned.setOrphans(global.orphans + 1)
                try commit(&last, linked, global: orphaned)
                pair = try fetch(pair.blocks)
                var state = pair.state
                state.entries.insert(entry, at: insertionIndex(name, in: state))
                var settled = global
                settled.setOrphans(global.orphans - 1)
                try commit(&pair, state, global: settled)
            }
            current = directory.blocks
        }
        return current
    }

    func checkedName(_ part: Substring) throws(KeyValueError) -> [UInt8] {
        let name = Array(part.utf8)
        guard !name.isEmpty, name.count <= Int(nameMax), part != ".", part != "..", !name.contains(0) else { throw .invalidKey }
        return name
    }

    /// Writes `value` as a file's struct: inline if small, else a CTZ skip-list in new blocks, flushed.
    func store(_ value: [UInt8]) throws(KeyValueError) -> (type: UInt32, data: [UInt8]) {
        guard value.count > inlineMax else { return (Littlefs.TagType.inlineStruct, value) }
        guard value.count <= Int(Int32.max) else { throw .noSpace }
        var blocks: [UInt32] = []
        var offset = 0
        var index: UInt32 = 0
        // Consecutive blocks (the allocator's usual gift) are written together,
        // up to `runBytes`: each block its pointers, its share of the value,
        // then zeros (the last block only). Small blocks are laid out in one
        // buffer; large ones gathered from pieces, the value's where it lies
        // (see `scatters`).
        let runLimit = max(1, min(Int(Littlefs.ctzBlockCount(size: UInt32(value.count), blockSize: UInt32(blockSize))),
                                  runBytes / blockSize))
        var run = scatters ? [] : filledBytes(count: runLimit * blockSize) { _ in }
        let zeros = scatters ? [UInt8](repeating: 0, count: blockSize) : []
        var pointerWords: [UInt32] = []
        var shares: [(pointers: Int, offset: Int, count: Int)] = []
        var runFirst: UInt32 = 0, runBlocks = 0
        func writeRun() throws(KeyValueError) {
            guard runBlocks > 0 else { return }
            let sector = UInt64(runFirst) * UInt64(blockSize / 512)
            var failure: BlockError?
            if scatters {
                pointerWords.withUnsafeBytes { words in
                    value.withUnsafeBytes { source in
                        zeros.withUnsafeBytes { zero in
                            var pieces: [UnsafeRawBufferPointer] = []
                            pieces.reserveCapacity(3 * shares.count)
                            var word = 0
                            for share in shares {
                                pieces.append(UnsafeRawBufferPointer(start: words.baseAddress! + 4 * word, count: 4 * share.pointers))
                                pieces.append(UnsafeRawBufferPointer(start: source.baseAddress! + share.offset, count: share.count))
                                pieces.append(UnsafeRawBufferPointer(start: zero.baseAddress!, count: blockSize - 4 * share.pointers - share.count))
                                word += share.pointers
                            }
                            do throws(BlockError) { try device.write(sector: sector, gathering: pieces) } catch { failure = error }
                        }
                    }
                }
                shares.removeAll(keepingCapacity: true)
                pointerWords.removeAll(keepingCapacity: true)
            } else {
                run.withUnsafeBytes { bytes in
                    do throws(BlockError) {
                        try device.write(sector: sector, from: UnsafeRawBufferPointer(rebasing: bytes[0..<(runBlocks * blockSize)]))
                    } catch { failure = error }
                }
            }
            if let failure { throw .device(failure) }
            runBlocks = 0
        }
        while offset < value.count {
            let block = try allocate()
            if runBlocks > 0 && (block != runFirst + UInt32(runBlocks) || runBlocks == runLimit) { try writeRun() }
            if runBlocks == 0 { runFirst = block }
            let pointers = Littlefs.ctzPointers(index)
            let take = min(blockSize - 4 * pointers, value.count - offset)
            if scatters {
                for skip in 0..<pointers { pointerWords.append(blocks[Int(index) - (1 << skip)].littleEndian) }
                shares.append((pointers, offset, take))
            } else {
                run.withUnsafeMutableBytes { buffer in
                    let start = runBlocks * blockSize
                    for skip in 0..<pointers {
                        buffer.storeBytes(of: blocks[Int(index) - (1 << skip)].littleEndian, toByteOffset: start + 4 * skip, as: UInt32.self)
                    }
                    value.withUnsafeBytes { source in
                        (buffer.baseAddress! + start + 4 * pointers).copyMemory(from: source.baseAddress! + offset, byteCount: take)
                    }
                    let used = 4 * pointers + take
                    UnsafeMutableRawBufferPointer(rebasing: buffer[(start + used)..<(start + blockSize)]).initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
            runBlocks += 1
            blocks.append(block)
            offset += take
            index += 1
        }
        try writeRun()
        try flush()
        var data: [UInt8] = []
        Littlefs.appendLE32(&data, blocks[blocks.count - 1])
        Littlefs.appendLE32(&data, UInt32(value.count))
        return (Littlefs.TagType.ctzStruct, data)
    }

    func setHoldingLock(_ key: String, _ value: [UInt8]) throws(KeyValueError) {
        try change { () throws(KeyValueError) in
            let parts = KeyPath.parts(key)
            guard let last = parts.last else { throw .invalidKey }
            let name = try checkedName(last)
            let parent = try makeDirectories(parts.dropLast())
            if let (pair, id) = try find(name, in: parent), pair.state.entries[id].type != Littlefs.TagType.regular { throw .wrongKind }
            let content = try store(value)
            let freed = try put(Littlefs.Entry(name: name, type: Littlefs.TagType.regular, structType: content.type, structData: content.data),
                                in: parent)
            release(freed)
        }
    }

    func removeHoldingLock(_ key: String) throws(KeyValueError) {
        try change { () throws(KeyValueError) in
            let parts = KeyPath.parts(key)
            if parts.isEmpty {
                for entry in try listHoldingLock("") { try removeEntry(entry.name) }
                return
            }
            guard try lookup(key) != nil else { throw .notFound }
            try removeEntry(KeyPath.normalized(key))
        }
    }

    /// Removes `key` (a value, or a directory and all under it).
    func removeEntry(_ key: String) throws(KeyValueError) {
        guard let (found, id, entry) = try lookup(key) else { return }
        var pair = found
        var state = pair.state
        guard let directory = entry.directoryPair else {
            let freed = try entry.ctz.map { (ctz) throws(KeyValueError) in try fileBlocks(head: ctz.head, size: ctz.size) } ?? []
            state.entries.remove(at: id)
            try commit(&pair, state)
            release(freed)
            return
        }
        for child in try listHoldingLock(key) { try removeEntry(key + "/" + child.name) }
        // Unlink the directory's pairs from the threaded list. If the pair
        // before them is the one holding the entry, one commit does both;
        // else the entry goes first and the pairs are orphans until the
        // second commit (a mount in between finds and unlinks them).
        let pairs = try chain(directory)
        let after = pairs[pairs.count - 1].state.tail
        var predecessor = try self.predecessor(of: directory)
        let fresh = try fetch(pair.blocks)
        state = fresh.state
        pair = fresh
        guard let index = state.entries.firstIndex(where: { $0.directoryPair.map { Littlefs.samePair($0, directory) } ?? false }) else { throw .corrupt }
        state.entries.remove(at: index)
        if predecessor.same(pair.blocks) {
            state.tail = after
            try commit(&pair, state)
        } else {
            var orphaned = global
            orphaned.setOrphans(global.orphans + 1)
            try commit(&pair, state, global: orphaned)
            predecessor = try fetch(predecessor.blocks)
            var unlinked = predecessor.state
            unlinked.tail = after
            var settled = global
            settled.setOrphans(global.orphans - 1)
            try commit(&predecessor, unlinked, global: settled)
        }
        release(pairs.flatMap { [$0.blocks.0, $0.blocks.1] })
    }

    /// The pair whose tail is `blocks`, in the threaded list.
    func predecessor(of blocks: (UInt32, UInt32)) throws(KeyValueError) -> Pair {
        var current = try fetch((0, 1))
        var steps = 0
        while let tail = current.state.tail {
            if Littlefs.samePair(tail, blocks) { return current }
            steps += 1
            guard steps <= Int(blockCount) else { throw .corrupt }
            current = try fetch(tail)
        }
        throw .corrupt
    }

    func renameHoldingLock(_ source: String, to destination: String) throws(KeyValueError) {
        try change { () throws(KeyValueError) in
            let from = KeyPath.parts(source), to = KeyPath.parts(destination)
            guard !from.isEmpty, let last = to.last else { throw .invalidKey }
            guard !to.starts(with: from) else {
                if to.count == from.count { return }   // onto itself
                throw .invalidKey                      // into itself
            }
            guard try lookup(source) != nil else { throw .notFound }
            let name = try checkedName(last)
            if let existing = try lookup(destination), existing.entry.type == Littlefs.TagType.directory {
                try removeEntry(KeyPath.normalized(destination))
            }
            let parent = try makeDirectories(to.dropLast())
            guard let (sourcePair, sourceID, entry) = try lookup(source) else { throw .notFound }
            var moved = entry
            moved.name = name
            let (target, _) = try placement(name, in: parent)
            if target.same(sourcePair.blocks) {
                // Both in one pair: one commit.
                var state = sourcePair.state
                let freed = try replaced(in: state, name: name)
                state.entries.remove(at: sourceID)
                if let index = state.entries.firstIndex(where: { $0.name == name && $0.type != Littlefs.TagType.superblock }) {
                    state.entries[index] = moved
                } else {
                    state.entries.insert(moved, at: insertionIndex(name, in: state))
                }
                var pair = sourcePair
                try commit(&pair, state)
                release(freed)
                return
            }
            // Across pairs: the destination first, with a pending move that
            // names the source, then the source's deletion clears it.
            var moving = global
            moving.setMove(pair: sourcePair.blocks, id: UInt32(sourceID))
            let freed = try put(moved, in: parent, global: moving)
            try completeMove()
            release(freed)
        }
    }

    /// The blocks of the file named `name` in `state`, if there is one (it is about to be replaced).
    func replaced(in state: Littlefs.Metadata, name: [UInt8]) throws(KeyValueError) -> [UInt32] {
        guard let entry = state.entries.first(where: { $0.name == name && $0.type == Littlefs.TagType.regular }),
              let ctz = entry.ctz else { return [] }
        return try fileBlocks(head: ctz.head, size: ctz.size)
    }

    /// Finishes a pending move: deletes its source entry and clears the move.
    func completeMove() throws(KeyValueError) {
        guard global.hasMove else { return }
        var pair = try fetch(global.pair)
        var state = pair.state
        let id = Int(global.moveID)
        if id < state.entries.count { state.entries.remove(at: id) }
        var cleared = global
        cleared.clearMove()
        try commit(&pair, state, global: cleared)
    }

    /// Unlinks metadata pairs that start a directory no entry points to
    /// (left by a directory removal cut short), then clears the orphan count.
    func removeOrphans() throws(KeyValueError) {
        var referenced: [(UInt32, UInt32)] = [root]
        var next: (UInt32, UInt32)? = (0, 1)
        var steps = 0
        while let blocks = next {
            steps += 1
            guard steps <= Int(blockCount) else { throw .corrupt }
            let pair = try fetch(blocks)
            for entry in pair.state.entries { if let directory = entry.directoryPair { referenced.append(directory) } }
            next = pair.state.tail
        }
        var previous = try fetch((0, 1))
        while let tail = previous.state.tail {
            let current = try fetch(tail)
            let isDirectoryStart = !previous.state.isHardTail
            if isDirectoryStart && !referenced.contains(where: { Littlefs.samePair($0, tail) }) {
                var skipped = current
                while skipped.state.isHardTail, let further = skipped.state.tail { skipped = try fetch(further) }
                var state = previous.state
                state.tail = skipped.state.tail
                state.isHardTail = false
                try commit(&previous, state)
                continue
            }
            previous = current
        }
        var settled = global
        settled.setOrphans(0)
        var rootPair = try fetch(root)
        try commit(&rootPair, rootPair.state, global: settled)
        try traverse()
    }
}

/// One bit per block: a 4 GiB card of 4 KiB blocks takes 128 KiB.
struct BlockBitmap {
    var words: [UInt64]
    /// How many bits are set.
    private(set) var count = 0

    init(count blocks: UInt32) { words = [UInt64](repeating: 0, count: (Int(blocks) + 63) / 64) }

    subscript(block: UInt32) -> Bool {
        get { words[Int(block / 64)] >> UInt64(block % 64) & 1 != 0 }
        set {
            guard self[block] != newValue else { return }
            words[Int(block / 64)] ^= 1 << UInt64(block % 64)
            count += newValue ? 1 : -1
        }
    }
}

extension Littlefs {
    /// Whether two pairs name the same blocks, in either order.
    public static func samePair(_ a: (UInt32, UInt32), _ b: (UInt32, UInt32)) -> Bool {
        (a.0 == b.0 && a.1 == b.1) || (a.0 == b.1 && a.1 == b.0)
    }

    /// littlefs's name order: by bytes, and of two names where one begins
    /// the other, the longer first ("26" before "2"). littlefs looks names
    /// up assuming it: an entry out of this order is not found.
    public static func sortsBefore(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        for index in 0..<min(a.count, b.count) where a[index] != b[index] { return a[index] < b[index] }
        return a.count > b.count
    }
}

/// The store's operations, each whole under the lock (see `lock`).
extension LittlefsStore {
    public func exists(_ key: String) throws(KeyValueError) -> KeyValueKind? {
        try lock.withLock { () throws(KeyValueError) -> KeyValueKind? in try existsHoldingLock(key) }
    }

    public func size(_ key: String) throws(KeyValueError) -> Int {
        try lock.withLock { () throws(KeyValueError) -> Int in try sizeHoldingLock(key) }
    }

    public func get(_ key: String) throws(KeyValueError) -> [UInt8] {
        try lock.withLock { () throws(KeyValueError) -> [UInt8] in try getHoldingLock(key) }
    }

    public func get(_ key: String, offset: Int, length: Int) throws(KeyValueError) -> [UInt8] {
        try lock.withLock { () throws(KeyValueError) -> [UInt8] in try getHoldingLock(key, offset: offset, length: length) }
    }

    public func list(_ key: String) throws(KeyValueError) -> [KeyValueEntry] {
        try lock.withLock { () throws(KeyValueError) -> [KeyValueEntry] in try listHoldingLock(key) }
    }

    public func freeSpace() throws(KeyValueError) -> Int {
        try lock.withLock { () throws(KeyValueError) -> Int in try freeSpaceHoldingLock() }
    }

    public func set(_ key: String, _ value: [UInt8]) throws(KeyValueError) {
        try lock.withLock { () throws(KeyValueError) -> Void in try setHoldingLock(key, value) }
    }

    public func remove(_ key: String) throws(KeyValueError) {
        try lock.withLock { () throws(KeyValueError) -> Void in try removeHoldingLock(key) }
    }

    public func rename(_ source: String, to destination: String) throws(KeyValueError) {
        try lock.withLock { () throws(KeyValueError) -> Void in try renameHoldingLock(source, to: destination) }
    }
}
