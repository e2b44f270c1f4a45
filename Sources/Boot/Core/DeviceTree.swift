/// A read-only view of a flattened device tree (DTB), in pure Swift.
///
/// The runtime finds its devices and its boot-time keys here. It never
/// trusts the blob: every read is bounds-checked, and a malformed tree gives
/// `nil` answers rather than a crash. It builds for the host too, where it is
/// unit tested and fuzzed.
///
/// Every image carries it, so it is written to be small: one `step` walks
/// the structure block token by token, lookups compare bytes with
/// StaticStrings, nothing allocates, and lengths from the blob are compared
/// as UInt32 before they become Ints (Int is 32 bits on ARM). A blob is at
/// most `maximumSize`, so offsets into it, and an offset plus a length that
/// was checked against the blob, cannot overflow: that arithmetic wraps
/// (`&+`) instead of carrying an overflow check, and converting such a value
/// between UInt32 and Int cannot lose bits (`truncatingIfNeeded`).
public struct DeviceTree {
    /// Where the blob starts, and its `totalsize`.
    let base: UnsafeRawPointer
    let size: Int
    let structureStart: Int
    let structureEnd: Int
    let stringsStart: Int
    let stringsEnd: Int

    static let magic: UInt32 = 0xd00d_feed
    /// The largest blob read (real ones are a few KiB; a loader's limit is 2 MiB).
    static let maximumSize: UInt32 = 16 << 20
    enum Token: UInt32 {
        case beginNode = 1, endNode = 2, property = 3, nop = 4, end = 9
    }

    /// Reads the header at `bytes`; `nil` unless it is a well-formed DTB
    /// header (magic, version 16/17, blocks inside the blob).
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 40, let base = bytes.baseAddress, DeviceTree.bigEndian32(bytes, at: 0) == DeviceTree.magic else { return nil }
        func field(_ offset: Int) -> UInt32 { DeviceTree.bigEndian32(bytes, at: offset) }
        let total = field(4), structureOffset = field(8), stringsOffset = field(12)
        let version = field(20), lastCompatible = field(24), stringsSize = field(32), structureSize = field(36)
        guard total >= 40, total <= DeviceTree.maximumSize, Int(truncatingIfNeeded: total) <= bytes.count,
              version >= 16 || lastCompatible <= 16, structureOffset % 4 == 0,
              structureOffset <= total, structureSize <= total - structureOffset,
              stringsOffset <= total, stringsSize <= total - stringsOffset
        else { return nil }
        self.base = base
        size = Int(truncatingIfNeeded: total)
        structureStart = Int(truncatingIfNeeded: structureOffset)
        structureEnd = Int(truncatingIfNeeded: structureOffset &+ structureSize)
        stringsStart = Int(truncatingIfNeeded: stringsOffset)
        stringsEnd = Int(truncatingIfNeeded: stringsOffset &+ stringsSize)
    }

    /// Reads a tree whose header is at `address` (a boot loader handed it
    /// over, or the linker placed it); `nil` if no valid header is there.
    public init?(address: UInt) {
        guard address != 0, address % 4 == 0, let header = UnsafeRawPointer(bitPattern: address) else { return nil }
        let first8 = UnsafeRawBufferPointer(start: header, count: 8)
        let total = DeviceTree.bigEndian32(first8, at: 4)
        guard DeviceTree.bigEndian32(first8, at: 0) == DeviceTree.magic, total >= 40, total <= DeviceTree.maximumSize else { return nil }
        self.init(bytes: UnsafeRawBufferPointer(start: header, count: Int(truncatingIfNeeded: total)))
    }

    /// The blob's bytes, exactly `totalsize` long.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// The root node.
    public var root: Node? {
        var cursor = structureStart
        while let (token, next) = step(at: cursor) {
            if token == .beginNode { return Node(tree: self, offset: cursor) }
            guard token == .nop else { return nil }
            cursor = next
        }
        return nil
    }

    /// The node at an absolute path such as `/chosen` or `/soc/serial@1c28000`.
    /// A path component without a unit address matches a node whose name
    /// before the `@` is equal. Names are StaticStrings and compared as
    /// bytes, so an image that only looks nodes up links none of String.
    public func node(at path: StaticString) -> Node? {
        // One pass over the structure: `matched` components of the path have
        // been found, the last at depth `matched`; a node that opens right
        // below it is compared with the next component, path[start..<end].
        let length = path.utf8CodeUnitCount, path = path.utf8Start
        let slash = UInt8(ascii: "/")
        var start = 0, end = 0
        var depth = 0, matched = -1
        var cursor = structureStart
        var steps = 0
        while steps < 1 << 20, let (token, next) = step(at: cursor) {
            steps &+= 1
            if token == .beginNode {
                let node = Node(tree: self, offset: cursor)
                if depth == matched &+ 1 && (matched < 0 || node.nameMatches(path + start, end &- start)) {
                    matched &+= 1
                    start = end
                    while start < length && path[start] == slash { start &+= 1 }
                    end = start
                    while end < length && path[end] != slash { end &+= 1 }
                    if start == end { return node }
                }
                depth &+= 1
            } else if token == .endNode {
                depth &-= 1
                if depth <= matched { return nil }
            } else if token != .property && token != .nop {
                return nil
            }
            cursor = next
        }
        return nil
    }

    /// Every node whose `compatible` list contains `compatible`, in tree order.
    public func nodes(compatibleWith compatible: StaticString) -> [Node] {
        var found: [Node] = []
        func visit(_ node: Node, depth: Int) {
            guard depth < 32 else { return }
            if node.isCompatible(with: compatible) { found.append(node) }
            for child in node.children { visit(child, depth: depth + 1) }
        }
        if let root { visit(root, depth: 0) }
        return found
    }

    /// `/chosen/bootargs`, the boot-time keys, as bytes (empty when there are none).
    public var bootArguments: BootArguments {
        BootArguments(bytes: node(at: "/chosen")?.property("bootargs")?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Whether the NUL-separated string list `bytes` (a `compatible` value)
    /// holds `word`, compared as bytes.
    public static func list(_ bytes: UnsafeRawBufferPointer, contains word: StaticString) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && base.load(fromByteOffset: end, as: UInt8.self) != 0 { end &+= 1 }
            if end &- start == word.utf8CodeUnitCount && sameBytes(base + start, word.utf8Start, end &- start) { return true }
            start = end &+ 1
        }
        return false
    }

    // MARK: Reading the blob

    /// The big-endian word at `offset`, or 0 when it is not inside `bytes`.
    static func bigEndian32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        bigEndian32(bytes.baseAddress, count: bytes.count, at: offset)
    }

    /// The big-endian word at `offset` of the `count` bytes at `base`, or 0
    /// when it is not inside them.
    static func bigEndian32(_ base: UnsafeRawPointer?, count: Int, at offset: Int) -> UInt32 {
        guard offset >= 0, offset <= count &- 4, let base else { return 0 }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The big-endian word at `offset` of the blob, or 0 when it is not inside.
    func word(at offset: Int) -> UInt32 { DeviceTree.bigEndian32(base, count: size, at: offset) }

    /// The byte at `offset`, which the caller has checked lies inside the blob.
    func byte(at offset: Int) -> UInt8 {
        base.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// The blob's bytes in `range`, which the caller has checked lie inside it.
    func window(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// The token at `offset` of the structure block and the offset of the
    /// next one, or nil where the block is malformed or ends. One copy for
    /// every walk.
    @inline(never)
    func step(at offset: Int) -> (Token, Int)? {
        guard offset >= structureStart, offset <= structureEnd &- 4,
              let token = Token(rawValue: word(at: offset)) else { return nil }
        switch token {
        case .beginNode:
            guard let length = cStringLength(at: offset &+ 4, limit: structureEnd) else { return nil }
            return (token, offset &+ 4 &+ DeviceTree.aligned4(length &+ 1))
        case .property:
            guard let value = propertyValue(at: offset) else { return nil }
            return (token, DeviceTree.aligned4(value.upperBound))
        default:
            return (token, offset &+ 4)
        }
    }

    /// Where the value of the property token at `offset` lies, if inside the block.
    func propertyValue(at offset: Int) -> Range<Int>? {
        guard offset <= structureEnd &- 12 else { return nil }
        let length = word(at: offset &+ 4)
        guard length <= UInt32(truncatingIfNeeded: structureEnd &- offset &- 12) else { return nil }
        let start = offset &+ 12
        return Range(uncheckedBounds: (start, start &+ Int(truncatingIfNeeded: length)))
    }

    /// Length of the NUL-terminated string at `offset`, if it ends before `limit`.
    func cStringLength(at offset: Int, limit: Int) -> Int? {
        guard offset >= 0, limit <= size else { return nil }
        var end = offset
        while end < limit {
            if byte(at: end) == 0 { return end &- offset }
            end &+= 1
        }
        return nil
    }

    static func aligned4(_ value: Int) -> Int { (value &+ 3) & ~3 }
}

extension DeviceTree {
    /// One node of the tree.
    public struct Node {
        let tree: DeviceTree
        /// Offset of the node's BEGIN_NODE token in the blob.
        public let offset: Int

        var nameRange: Range<Int> {
            let start = offset &+ 4
            return Range(uncheckedBounds: (start, start &+ (tree.cStringLength(at: start, limit: tree.structureEnd) ?? 0)))
        }

        /// The node's name with its unit address, such as `serial@1c28000`.
        public var name: String {
            String(decoding: tree.window(nameRange), as: UTF8.self)
        }

        /// Whether the name is the `count` bytes at `component`, or its part
        /// before the `@` is when they hold no unit address.
        func nameMatches(_ component: UnsafePointer<UInt8>, _ count: Int) -> Bool {
            let name = nameRange
            guard name.count >= count, sameBytes(tree.base + name.lowerBound, component, count) else { return false }
            if name.count == count { return true }
            for index in 0..<count where component[index] == UInt8(ascii: "@") { return false }
            return tree.byte(at: name.lowerBound &+ count) == UInt8(ascii: "@")
        }

        /// The node's properties, in order, read as they are iterated.
        public var properties: Properties { Properties(tree: tree, cursor: tree.step(at: offset)?.1) }

        /// The property called `name`, if the node has it.
        public func property(_ name: StaticString) -> Property? {
            properties.first { $0.hasName(name) }
        }

        /// The node's direct children, in order, read as they are iterated.
        public var children: Children { Children(tree: tree, cursor: tree.step(at: offset)?.1) }

        /// Whether the node's `compatible` list names `compatible`.
        public func isCompatible(with compatible: StaticString) -> Bool {
            guard let list = property("compatible") else { return false }
            return DeviceTree.list(list.bytes, contains: compatible)
        }

        /// The `index`-th (address, size) window of `reg`, read with
        /// `addressCells` and `sizeCells` cells (the parent's `#address-cells`
        /// and `#size-cells`; every board here uses 1 and 1).
        public func register(index: Int = 0, addressCells: Int = 1, sizeCells: Int = 1) -> (address: UInt64, size: UInt64)? {
            guard let cells = property("reg")?.cells, index >= 0, index < 1 << 16,
                  addressCells >= 0, addressCells <= 2, sizeCells >= 0, sizeCells <= 2 else { return nil }
            let start = index * (addressCells + sizeCells)
            guard start + addressCells + sizeCells <= cells.count else { return nil }
            func join(_ first: Int, _ count: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in first..<first + count { value = value << 32 | UInt64(cells[index]) }
                return value
            }
            return (join(start, addressCells), join(start + addressCells, sizeCells))
        }
    }

    /// One property of a node.
    public struct Property {
        let tree: DeviceTree
        let nameOffset: UInt32
        /// Where the value's bytes lie in the blob.
        public let value: Range<Int>

        func hasName(_ name: StaticString) -> Bool {
            guard nameOffset < UInt32(truncatingIfNeeded: tree.stringsEnd &- tree.stringsStart) else { return false }
            let start = tree.stringsStart &+ Int(truncatingIfNeeded: nameOffset)
            guard let length = tree.cStringLength(at: start, limit: tree.stringsEnd) else { return false }
            return length == name.utf8CodeUnitCount && sameBytes(tree.base + start, name.utf8Start, length)
        }

        /// The value's raw bytes.
        public var bytes: UnsafeRawBufferPointer { tree.window(value) }

        /// The value as big-endian 32-bit cells (a trailing partial cell is dropped).
        public var cells: Cells { Cells(bytes: bytes) }

        /// The value as one string (up to its first NUL).
        public var string: String? { strings.first }

        /// The value as a list of NUL-separated strings.
        public var strings: [String] {
            var bytes = Array(self.bytes)
            if bytes.last == 0 { bytes.removeLast() }
            guard !bytes.isEmpty else { return [] }
            return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// A property's value as big-endian 32-bit cells, read in place.
    public struct Cells: RandomAccessCollection {
        let bytes: UnsafeRawBufferPointer
        public var startIndex: Int { 0 }
        public var endIndex: Int { bytes.count / 4 }
        /// The cell at `index`; 0 outside the value.
        public subscript(index: Int) -> UInt32 { DeviceTree.bigEndian32(bytes, at: index &* 4) }
    }

    /// A node's properties, found token by token as they are iterated.
    public struct Properties: Sequence, IteratorProtocol {
        let tree: DeviceTree
        var cursor: Int?

        @inline(never)  // one copy, not one in every loop over properties
        public mutating func next() -> Property? {
            while let at = cursor, let (token, next) = tree.step(at: at) {
                cursor = next
                if token == .property, let value = tree.propertyValue(at: at) {
                    return Property(tree: tree, nameOffset: tree.word(at: at &+ 8), value: value)
                }
                guard token == .nop else { break }
            }
            cursor = nil
            return nil
        }
    }

    /// A node's direct children, found token by token as they are iterated.
    public struct Children: Sequence, IteratorProtocol {
        let tree: DeviceTree
        var cursor: Int?

        @inline(never)  // one copy, not one in every loop over children
        public mutating func next() -> Node? {
            // Depth counts the nodes opened below the child being skipped;
            // the step limit ends a walk that a malformed blob would make endless.
            var depth = 0
            var child: Int?
            var steps = 0
            while let at = cursor, steps < 1 << 20, let (token, next) = tree.step(at: at) {
                steps &+= 1
                cursor = next
                if token == .beginNode {
                    if depth == 0 { child = at }
                    depth &+= 1
                    if depth < 64 { continue }
                } else if token == .endNode && depth > 0 {
                    depth &-= 1
                    if depth == 0, let child { return Node(tree: tree, offset: child) }
                    continue
                } else if token == .property || token == .nop {
                    continue
                }
                break  // the parent's END_NODE, the END token, or nesting too deep
            }
            cursor = nil
            return nil
        }
    }
}
