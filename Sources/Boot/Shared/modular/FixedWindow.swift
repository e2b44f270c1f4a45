/// What the fixed-window scalar multiplication needs of a curve's points:
/// complete addition formulas (they hold for doubling and the identity too)
/// and a choice between two points by a mask, with no branch.
protocol CompleteCurvePoint {
    static var identity: Self { get }
    static func + (p: Self, q: Self) -> Self
    /// `second` where `take` is 1, `first` where it is 0.
    static func choose(_ first: Self, _ second: Self, take: UInt32) -> Self
}

extension CompleteCurvePoint {
    /// The point times a 256-bit scalar, given as its 64 nibbles (`nibble(0)`
    /// the lowest), in constant time, with a 4-bit fixed window: the table
    /// 0P, 1P, ... 15P first, then for each nibble from the top four
    /// doublings and the addition of the table's entry for the nibble. The
    /// entry is found by reading all sixteen and keeping the wanted one by a
    /// mask, so no memory index and no branch depends on the scalar; 0P is
    /// the identity, an ordinary addend for complete formulas. 256 doublings
    /// and 64 additions (and 14 for the table), where a bit at a time takes
    /// 256 of each.
    func multiplied(byNibbles nibble: (Int) -> UInt32) -> Self {
        var table = [Self.identity, self]
        for _ in 2..<16 { table.append(table[table.count - 1] + self) }
        var result = Self.identity
        for window in stride(from: 63, through: 0, by: -1) {
            for _ in 0..<4 { result = result + result }
            result = result + Self.entry(nibble(window), of: table)
        }
        return result
    }

    /// `table[wanted]` (of 16), found by reading every entry and keeping the
    /// wanted one by a mask: no memory index depends on `wanted`.
    static func entry(_ wanted: UInt32, of table: [Self]) -> Self {
        var entry = Self.identity
        for index in 0..<16 {
            // 1 where index == wanted: only a difference of 0 wraps below zero.
            entry = Self.choose(entry, table[index], take: ((UInt32(index) ^ wanted) &- 1) >> 31)
        }
        return entry
    }
}

/// The multiples of a fixed base point (a curve's generator) that a
/// multiplication by it reads: row w holds 0, 1, ... 15 times 16^w times
/// the base, so that a 256-bit scalar costs 64 additions and no doubling (a
/// fixed-base comb, one nibble per row), where the fixed window takes 256
/// doublings and 64 additions. Made once, at first use, for about three
/// scalar multiplications' work; 1024 points.
struct FixedBaseTable<Point: CompleteCurvePoint> {
    let rows: [[Point]]

    init(base: Point) {
        var rows: [[Point]] = []
        var power = base                                  // 16^w times the base
        for _ in 0..<64 {
            var row = [Point.identity, power]
            for _ in 2..<16 { row.append(row[row.count - 1] + power) }
            power = row[15] + power
            rows.append(row)
        }
        self.rows = rows
    }

    /// The base times a 256-bit scalar, given as its 64 nibbles (`nibble(0)`
    /// the lowest), in constant time: each row's entry read by masks.
    func multiplied(byNibbles nibble: (Int) -> UInt32) -> Point {
        var result = Point.identity
        for window in 0..<64 { result = result + Point.entry(nibble(window), of: rows[window]) }
        return result
    }
}
