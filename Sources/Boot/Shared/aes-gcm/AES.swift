/// The AES block cipher (FIPS 197), encryption only (GCM needs no more), with
/// 128-, 192- and 256-bit keys.
///
/// Constant time without tables: the state is bit-sliced. Plane i of a
/// `SlicedBlocks` holds bit i of each of 32 bytes (two blocks), so SubBytes is
/// a Boolean circuit run on all 32 bytes at once by ANDs and XORs of whole
/// planes, and ShiftRows and MixColumns are fixed shifts and masks. Nothing
/// is indexed by a key or data byte and nothing branches on one: the usual
/// 256-byte S-box table leaks its index through the cache and is not used.
/// The cost is speed: some 200 word operations per round for 32 bytes, still
/// more than ChaCha20's, so a server without AES instructions prefers
/// ChaCha20-Poly1305.
public struct AES {
    /// The round keys, each as sliced planes with the key in both halves.
    let roundKeys: [SlicedBlocks]

    /// Expands a 16-, 24- or 32-byte key (FIPS 197 section 5.2).
    public init(key: [UInt8]) {
        precondition(key.count == 16 || key.count == 24 || key.count == 32, "AES takes a 16-, 24- or 32-byte key")
        let keyWords = key.count / 4, rounds = keyWords + 6
        var words: [UInt32] = []
        for index in 0..<keyWords {
            words.append(UInt32(key[4 * index]) << 24 | UInt32(key[4 * index + 1]) << 16
                         | UInt32(key[4 * index + 2]) << 8 | UInt32(key[4 * index + 3]))
        }
        var roundConstant: UInt32 = 1
        for index in keyWords..<(4 * (rounds + 1)) {
            var word = words[index - 1]
            if index % keyWords == 0 {
                word = AES.substitute(word: word << 8 | word >> 24) ^ roundConstant << 24
                roundConstant = roundConstant << 1 ^ (0x11b & (0 &- (roundConstant >> 7)))
            } else if keyWords > 6 && index % keyWords == 4 {
                word = AES.substitute(word: word)
            }
            words.append(words[index - keyWords] ^ word)
        }
        var roundKeys: [SlicedBlocks] = []
        for round in 0...rounds {
            var bytes: [UInt8] = []
            for word in words[(4 * round)..<(4 * round + 4)] {
                bytes += [UInt8(truncatingIfNeeded: word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                          UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
            }
            roundKeys.append(SlicedBlocks(bytes + bytes))
        }
        self.roundKeys = roundKeys
    }

    /// Encrypts two 16-byte blocks at once, in place.
    func encrypt(pair blocks: inout InlineArray<32, UInt8>) {
        var state = SlicedBlocks(block: blocks)
        state.add(roundKeys[0])
        for round in 1..<roundKeys.count {
            state.substituteBytes()
            state.shiftRows()
            if round < roundKeys.count - 1 { state.mixColumns() }
            state.add(roundKeys[round])
        }
        state.store(into: &blocks)
    }

    /// Encrypts one 16-byte block.
    public func encrypt(block: [UInt8]) -> [UInt8] {
        precondition(block.count == 16)
        var pair = InlineArray<32, UInt8>(repeating: 0)
        for index in 0..<16 { pair[index] = block[index] }
        encrypt(pair: &pair)
        var result = [UInt8](repeating: 0, count: 16)
        for index in 0..<16 { result[index] = pair[index] }
        return result
    }

    /// The S-box applied to each byte of a word, on the sliced planes too.
    static func substitute(word: UInt32) -> UInt32 {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<4 { bytes[index] = UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * index)) }
        var state = SlicedBlocks(bytes)
        state.substituteBytes()
        let out = state.bytes
        return UInt32(out[0]) << 24 | UInt32(out[1]) << 16 | UInt32(out[2]) << 8 | UInt32(out[3])
    }
}

/// Two AES states bit-sliced: bit j of `planes[i]` is bit i of byte j, bytes
/// 0-15 the first block and 16-31 the second, each in FIPS 197's order
/// (byte row + 4 * column).
struct SlicedBlocks {
    var planes: InlineArray<8, UInt32>

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == 32)
        var block = InlineArray<32, UInt8>(repeating: 0)
        for index in 0..<32 { block[index] = bytes[index] }
        self.init(block: block)
    }

    /// Word k gathers bytes k, k + 8, k + 16 and k + 24, one to a byte lane;
    /// transposing each lane's 8 x 8 bits across the eight words then leaves
    /// bit i of byte 8 * lane + k at bit k of lane `lane` in word i, which is
    /// plane i.
    init(block: InlineArray<32, UInt8>) {
        func word(_ k: Int) -> UInt32 {
            UInt32(block[k]) | UInt32(block[k + 8]) << 8 | UInt32(block[k + 16]) << 16 | UInt32(block[k + 24]) << 24
        }
        planes = Self.transposeLanes([word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7)])
    }

    /// Writes the 32 bytes back, by the same transposition (it is its own
    /// inverse).
    func store(into block: inout InlineArray<32, UInt8>) {
        let words = Self.transposeLanes(planes)
        for k in 0..<8 {
            for lane in 0..<4 { block[k + 8 * lane] = UInt8(truncatingIfNeeded: words[k] >> UInt32(8 * lane)) }
        }
    }

    var bytes: [UInt8] {
        var block = InlineArray<32, UInt8>(repeating: 0)
        store(into: &block)
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 { bytes[index] = block[index] }
        return bytes
    }

    /// Transposes, in each of the four byte lanes, the 8 x 8 bit matrix whose
    /// row k is word k's lane: swaps of 1-bit, then 2-bit, then 4-bit squares.
    static func transposeLanes(_ words: InlineArray<8, UInt32>) -> InlineArray<8, UInt32> {
        var w = words
        func swap(_ a: Int, _ b: Int, shift: UInt32, mask: UInt32) {
            let t = ((w[a] >> shift) ^ w[b]) & mask
            w[b] ^= t
            w[a] ^= t << shift
        }
        for a in 0..<8 where a & 1 == 0 { swap(a, a + 1, shift: 1, mask: 0x5555_5555) }
        for a in 0..<8 where a & 2 == 0 { swap(a, a + 2, shift: 2, mask: 0x3333_3333) }
        for a in 0..<4 { swap(a, a + 4, shift: 4, mask: 0x0f0f_0f0f) }
        return w
    }

    mutating func add(_ roundKey: SlicedBlocks) {
        for bit in 0..<8 { planes[bit] ^= roundKey.planes[bit] }
    }

    /// SubBytes by Boyar and Peralta's circuit ("A depth-16 circuit for the
    /// AES S-box", 2011): 34 ANDs and 94 XORs and XNORs on whole planes, no
    /// table and no branch. A linear layer maps the byte into GF((2^4)^2),
    /// the middle inverts there, and a last linear layer maps back and
    /// applies the affine map. The paper numbers bits from the top: u0 is
    /// bit 7 and s0 is bit 7 of the result.
    mutating func substituteBytes() {
        let u0 = planes[7], u1 = planes[6], u2 = planes[5], u3 = planes[4]
        let u4 = planes[3], u5 = planes[2], u6 = planes[1], u7 = planes[0]

        // The top linear layer.
        let t1 = u0 ^ u3, t2 = u0 ^ u5, t3 = u0 ^ u6, t4 = u3 ^ u5, t5 = u4 ^ u6
        let t6 = t1 ^ t5, t7 = u1 ^ u2, t8 = u7 ^ t6, t9 = u7 ^ t7, t10 = t6 ^ t7
        let t11 = u1 ^ u5, t12 = u2 ^ u5, t13 = t3 ^ t4, t14 = t6 ^ t11, t15 = t5 ^ t11
        let t16 = t5 ^ t12, t17 = t9 ^ t16, t18 = u3 ^ u7, t19 = t7 ^ t18, t20 = t1 ^ t19
        let t21 = u6 ^ u7, t22 = t7 ^ t21, t23 = t2 ^ t22, t24 = t2 ^ t10, t25 = t20 ^ t17
        let t26 = t3 ^ t16, t27 = t1 ^ t12

        // The non-linear middle: the inverse in the tower field.
        let m1 = t13 & t6, m2 = t23 & t8, m3 = t14 ^ m1, m4 = t19 & u7, m5 = m4 ^ m1
        let m6 = t3 & t16, m7 = t22 & t9, m8 = t26 ^ m6, m9 = t20 & t17, m10 = m9 ^ m6
        let m11 = t1 & t15, m12 = t4 & t27, m13 = m12 ^ m11, m14 = t2 & t10, m15 = m14 ^ m11
        let m16 = m3 ^ m2, m17 = m5 ^ t24, m18 = m8 ^ m7, m19 = m10 ^ m15, m20 = m16 ^ m13
        let m21 = m17 ^ m15, m22 = m18 ^ m13, m23 = m19 ^ t25, m24 = m22 ^ m23, m25 = m22 & m20
        let m26 = m21 ^ m25, m27 = m20 ^ m21, m28 = m23 ^ m25, m29 = m28 & m27, m30 = m26 & m24
        let m31 = m20 & m23, m32 = m27 & m31, m33 = m27 ^ m25, m34 = m21 & m22, m35 = m24 & m34
        let m36 = m24 ^ m25, m37 = m21 ^ m29, m38 = m32 ^ m33, m39 = m23 ^ m30, m40 = m35 ^ m36
        let m41 = m38 ^ m40, m42 = m37 ^ m39, m43 = m37 ^ m38, m44 = m39 ^ m40, m45 = m42 ^ m41
        let m46 = m44 & t6, m47 = m40 & t8, m48 = m39 & u7, m49 = m43 & t16, m50 = m38 & t9
        let m51 = m37 & t17, m52 = m42 & t15, m53 = m45 & t27, m54 = m41 & t10, m55 = m44 & t13
        let m56 = m40 & t23, m57 = m39 & t19, m58 = m43 & t3, m59 = m38 & t22, m60 = m37 & t20
        let m61 = m42 & t1, m62 = m45 & t4, m63 = m41 & t2

        // The bottom linear layer, with the affine map's constant 0x63 as the
        // XNORs into s1, s2, s6 and s7.
        let l0 = m61 ^ m62, l1 = m50 ^ m56, l2 = m46 ^ m48, l3 = m47 ^ m55, l4 = m54 ^ m58
        let l5 = m49 ^ m61, l6 = m62 ^ l5, l7 = m46 ^ l3, l8 = m51 ^ m59, l9 = m52 ^ m53
        let l10 = m53 ^ l4, l11 = m60 ^ l2, l12 = m48 ^ m51, l13 = m50 ^ l0, l14 = m52 ^ m61
        let l15 = m55 ^ l1, l16 = m56 ^ l0, l17 = m57 ^ l1, l18 = m58 ^ l8, l19 = m63 ^ l4
        let l20 = l0 ^ l1, l21 = l1 ^ l7, l22 = l3 ^ l12, l23 = l18 ^ l2, l24 = l15 ^ l9
        let l25 = l6 ^ l10, l26 = l7 ^ l9, l27 = l8 ^ l10, l28 = l11 ^ l14, l29 = l11 ^ l17

        planes[7] = l6 ^ l24
        planes[6] = ~(l16 ^ l26)
        planes[5] = ~(l19 ^ l28)
        planes[4] = l6 ^ l21
        planes[3] = l20 ^ l22
        planes[2] = l25 ^ l29
        planes[1] = ~(l13 ^ l27)
        planes[0] = ~(l6 ^ l23)
    }

    /// ShiftRows: row r of each block turns left by r columns. A row's bytes
    /// sit at bits r, r + 4, r + 8, r + 12 of each half, so that is each half
    /// of the row's bits rotated right by 4r.
    mutating func shiftRows() {
        for bit in 0..<8 {
            let plane = planes[bit]
            let row1: UInt32 = Self.rotateHalvesRight(plane & 0x2222_2222, by: 4)
            let row2: UInt32 = Self.rotateHalvesRight(plane & 0x4444_4444, by: 8)
            let row3: UInt32 = Self.rotateHalvesRight(plane & 0x8888_8888, by: 12)
            planes[bit] = plane & 0x1111_1111 | row1 | row2 | row3
        }
    }

    /// Each 16-bit half of `value` rotated right by `count` bits, on its own.
    static func rotateHalvesRight(_ value: UInt32, by count: UInt32) -> UInt32 {
        let staying: UInt32 = ((1 << (16 - count)) - 1) * 0x0001_0001
        let moved: UInt32 = (value >> count) & staying
        return moved | (value << (16 - count)) & ~staying
    }

    /// MixColumns: each column's byte r becomes
    /// 2 * (s[r] + s[r+1]) + s[r+1] + s[r+2] + s[r+3] in GF(2^8), where
    /// s[r+2] + s[r+3] is the sum s[r] + s[r+1] moved up two rows. Plane by
    /// plane, with no copy of the state: doubling moves each plane of the sum
    /// up one bit, and bit 7's carry is x^8 = x^4 + x^3 + x + 1 (0x1b).
    mutating func mixColumns() {
        let carry = planes[7] ^ Self.rotateColumns(planes[7], by: 1)
        var lowerSum: UInt32 = 0
        for bit in 0..<8 {
            let next = Self.rotateColumns(planes[bit], by: 1)
            let sum = planes[bit] ^ next
            let doubled = lowerSum ^ carry & (0 &- (0x1b >> UInt32(bit) & 1))
            planes[bit] = doubled ^ next ^ Self.rotateColumns(sum, by: 2)
            lowerSum = sum
        }
    }

    /// Moves each byte of a column to the row `count` above, wrapping: the
    /// bit at row r + count (mod 4) of a column comes to row r.
    static func rotateColumns(_ value: UInt32, by count: UInt32) -> UInt32 {
        let staying: UInt32 = ((1 << (4 - count)) - 1) * 0x1111_1111
        let moved: UInt32 = (value >> count) & staying
        return moved | (value << (4 - count)) & ~staying
    }
}
