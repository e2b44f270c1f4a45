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
            let wanted = nibble(window)
            var entry = Self.identity
            for index in 0..<16 {
                // 1 where index == wanted: only a difference of 0 wraps below zero.
                entry = Self.choose(entry, table[index], take: ((UInt32(index) ^ wanted) &- 1) >> 31)
            }
            result = result + entry
        }
        return result
    }
}
