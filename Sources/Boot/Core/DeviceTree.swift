/// A read-only view of a flattened device tree (DTB), in pure Swift.
///
/// The runtime finds its devices and its boot-time keys here. It never
/// trusts the blob: every read is bounds-checked, and a malformed tree gives
/// `nil` answers rather than a crash. It builds for the host too, where it is
/// unit tested and fuzzed.
public struct DeviceTree {
    /// The blob's bytes, exactly `totalsize` long.
    public let bytes: UnsafeRawBufferPointer
    let structureOffset: Int
    let structureSize: Int
    let stringsOffset: Int
    let stringsSize: Int

    static let magic: UInt32 = 0xd00d_feed
    enum Token: UInt32 {
        case beginNode = 1, endNode = 2, property = 3, nop = 4, end = 9
    }

    /// Reads the header at `bytes`; `nil` unless it is a well-formed DTB
    /// header (magic, version 16/17, blocks inside the blob).
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 40, DeviceTree.bigEndian32(bytes, at: 0) == DeviceTree.magic else { return nil }
        let total = Int(DeviceTree.bigEndian32(bytes, at: 4)!)
        guard total >= 40, total <= bytes.count else { return nil }
        let blob = UnsafeRawBufferPointer(rebasing: bytes[0..<total])
        let structureOffset = Int(DeviceTree.bigEndian32(blob, at: 8)!)
        let stringsOffset = Int(DeviceTree.bigEndian32(blob, at: 12)!)
        let version = DeviceTree.bigEndian32(blob, at: 20)!
        let lastCompatible = DeviceTree.bigEndian32(blob, at: 24)!
        let stringsSize = Int(DeviceTree.bigEndian32(blob, at: 32)!)
        let structureSize = Int(DeviceTree.bigEndian32(blob, at: 36)!)
        guard version >= 16 || lastCompatible <= 16,
              structureOffset % 4 == 0,
              structureOffset <= total, structureSize <= total - structureOffset,
              stringsOffset <= total, stringsSize <= total - stringsOffset
        else { return nil }
        self.bytes = blob
        self.structureOffset = structureOffset
        self.structureSize = structureSize
        self.stringsOffset = stringsOffset
        self.stringsSize = stringsSize
    }

    /// Reads a tree whose header is at `address` (a boot loader handed it
    /// over, or the linker placed it); `nil` if no valid header is there.
    public init?(address: UInt) {
        guard address != 0, address % 4 == 0,
              let header = UnsafeRawPointer(bitPattern: address) else { return nil }
        let first8 = UnsafeRawBufferPointer(start: header, count: 8)
        guard DeviceTree.bigEndian32(first8, at: 0) == DeviceTree.magic,
              let total = DeviceTree.bigEndian32(first8, at: 4),
              total >= 40, total <= 16 << 20 else { return nil }
        self.init(bytes: UnsafeRawBufferPointer(start: header, count: Int(total)))
    }

    /// The root node.
    public var root: Node? {
        var cursor = structureOffset
        while let token = token(at: cursor) {
            switch token {
            case .nop: cursor += 4
            case .beginNode: return Node(tree: self, offset: cursor)
            default: return nil
            }
        }
        return nil
    }

    /// The node at an absolute path such as `/chosen` or `/soc/serial@1c28000`.
    /// A path component without a unit address matches a node whose name
    /// before the `@` is equal. Names are StaticStrings and compared as
    /// bytes, so an image that only looks nodes up links none of String.
    public func node(at path: StaticString) -> Node? {
        path.withUTF8Buffer { node(atPathBytes: $0) }
    }

    func node(atPathBytes path: UnsafeBufferPointer<UInt8>) -> Node? {
        guard var node = root else { return nil }
        var start = 0
        while start < path.count {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            if end > start {
                let component = UnsafeBufferPointer(rebasing: path[start..<end])
                guard let child = node.children.first(where: { $0.nameMatches(component) }) else { return nil }
                node = child
            }
            start = end + 1
        }
        return node
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

    /// `/chosen/bootargs`, the boot-time keys, or "" when there are none.
    public var bootArguments: String {
        node(at: "/chosen")?.property("bootargs")?.string ?? ""
    }

    // MARK: Reading the blob

    static func bigEndian32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(bytes[offset + index]) }
        return value
    }

    func word(at offset: Int) -> UInt32? {
        guard offset >= structureOffset, offset <= structureOffset + structureSize - 4 else { return nil }
        return DeviceTree.bigEndian32(bytes, at: offset)
    }

    func token(at offset: Int) -> Token? {
        guard let raw = word(at: offset) else { return nil }
        return Token(rawValue: raw)
    }

    /// Length of the NUL-terminated string at `offset`, if it ends before `limit`.
    func cStringLength(at offset: Int, limit: Int) -> Int? {
        guard offset >= 0 else { return nil }
        var end = offset
        while end < limit {
            if bytes[end] == 0 { return end - offset }
            end += 1
        }
        return nil
    }

    static func aligned4(_ value: Int) -> Int { (value + 3) & ~3 }

    /// The offset just past the node that begins at `offset`, or nil if the
    /// node is malformed or nests absurdly deep.
    func end(ofNodeAt offset: Int) -> Int? {
        var cursor = offset
        var depth = 0
        var steps = 0
        while let token = token(at: cursor) {
            steps += 1
            guard steps < 1 << 20 else { return nil }
            switch token {
            case .beginNode:
                depth += 1
                guard depth < 64, let length = cStringLength(at: cursor + 4, limit: structureOffset + structureSize) else { return nil }
                cursor += 4 + DeviceTree.aligned4(length + 1)
            case .endNode:
                depth -= 1
                cursor += 4
                if depth == 0 { return cursor }
            case .property:
                guard let length = word(at: cursor + 4) else { return nil }
                cursor += 12 + DeviceTree.aligned4(Int(length))
            case .nop:
                cursor += 4
            case .end:
                return nil
            }
        }
        return nil
    }
}

extension DeviceTree {
    /// One node of the tree.
    public struct Node {
        let tree: DeviceTree
        /// Offset of the node's BEGIN_NODE token in the blob.
        public let offset: Int

        var nameRange: Range<Int> {
            let start = offset + 4
            let length = tree.cStringLength(at: start, limit: tree.structureOffset + tree.structureSize) ?? 0
            return start..<start + length
        }

        /// The node's name with its unit address, such as `serial@1c28000`.
        public var name: String {
            String(decoding: UnsafeRawBufferPointer(rebasing: tree.bytes[nameRange]), as: UTF8.self)
        }

        func nameMatches(_ component: UnsafeBufferPointer<UInt8>) -> Bool {
            let name = tree.bytes[nameRange]
            if name.elementsEqual(component) { return true }
            guard !component.contains(UInt8(ascii: "@")) else { return false }
            let beforeAt = name.firstIndex(of: UInt8(ascii: "@")) ?? name.endIndex
            return name[name.startIndex..<beforeAt].elementsEqual(component)
        }

        /// Offset of the first token after the node's name.
        var bodyOffset: Int { DeviceTree.aligned4(nameRange.upperBound + 1) }

        /// The node's properties, in order.
        public var properties: [Property] {
            var result: [Property] = []
            var cursor = bodyOffset
            while let token = tree.token(at: cursor) {
                if token == .nop { cursor += 4; continue }
                guard token == .property,
                      let length = tree.word(at: cursor + 4),
                      let nameOffset = tree.word(at: cursor + 8) else { break }
                let valueStart = cursor + 12
                guard Int(length) <= tree.structureOffset + tree.structureSize - valueStart else { break }
                result.append(Property(tree: tree, nameOffset: Int(nameOffset),
                                       value: valueStart..<valueStart + Int(length)))
                cursor = valueStart + DeviceTree.aligned4(Int(length))
            }
            return result
        }

        /// The property called `name`, if the node has it.
        public func property(_ name: StaticString) -> Property? {
            name.withUTF8Buffer { wanted in properties.first { $0.hasName(wanted) } }
        }

        /// The node's direct children, in order.
        public var children: [Node] {
            var result: [Node] = []
            var cursor = bodyOffset
            while let token = tree.token(at: cursor) {
                switch token {
                case .nop:
                    cursor += 4
                case .property:
                    guard let length = tree.word(at: cursor + 4) else { return result }
                    cursor += 12 + DeviceTree.aligned4(Int(length))
                case .beginNode:
                    result.append(Node(tree: tree, offset: cursor))
                    guard let next = tree.end(ofNodeAt: cursor) else { return result }
                    cursor = next
                case .endNode, .end:
                    return result
                }
            }
            return result
        }

        /// Whether the node's `compatible` list names `compatible`.
        public func isCompatible(with compatible: StaticString) -> Bool {
            guard let list = property("compatible") else { return false }
            return compatible.withUTF8Buffer { wanted in
                list.bytes.split(separator: 0).contains { $0.elementsEqual(wanted) }
            }
        }

        /// The first (address, size) pair of `reg`, read with `cells` address
        /// and size cells (the parent's `#address-cells` and `#size-cells`;
        /// every board here uses 1 and 1).
        /// The `index`-th (address, size) window of `reg`.
        public func register(index: Int = 0, addressCells: Int = 1, sizeCells: Int = 1) -> (address: UInt64, size: UInt64)? {
            guard let reg = property("reg"), index >= 0 else { return nil }
            let cells = reg.cells
            let start = index * (addressCells + sizeCells)
            guard start + addressCells + sizeCells <= cells.count, addressCells <= 2, sizeCells <= 2 else { return nil }
            func join(_ slice: ArraySlice<UInt32>) -> UInt64 { slice.reduce(0) { $0 << 32 | UInt64($1) } }
            return (join(cells[start..<start + addressCells]), join(cells[(start + addressCells)..<(start + addressCells + sizeCells)]))
        }
    }

    /// One property of a node.
    public struct Property {
        let tree: DeviceTree
        let nameOffset: Int
        /// Where the value's bytes lie in the blob.
        public let value: Range<Int>

        func hasName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
            let start = tree.stringsOffset + nameOffset
            guard nameOffset >= 0, nameOffset < tree.stringsSize,
                  let length = tree.cStringLength(at: start, limit: tree.stringsOffset + tree.stringsSize)
            else { return false }
            return tree.bytes[start..<start + length].elementsEqual(name)
        }

        /// The value's raw bytes.
        public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: tree.bytes[value]) }

        /// The value as big-endian 32-bit cells (a trailing partial cell is dropped).
        public var cells: [UInt32] {
            stride(from: 0, to: value.count - 3, by: 4).map { DeviceTree.bigEndian32(bytes, at: $0)! }
        }

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
}
