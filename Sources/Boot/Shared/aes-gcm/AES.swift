/// The AES block cipher (FIPS 197), encryption only (GCM needs no more), with
/// 128-, 192- and 256-bit keys.
///
/// Constant time without tables: the state is bit-sliced. Plane i of a
/// `SlicedBlocks` holds bit i of each of 32 bytes (two blocks), so SubBytes is
/// arithmetic in GF(2^8) done on all 32 bytes at once by ANDs and XORs of
/// whole planes (the inverse as x^254, then the affine map), and ShiftRows and
/// MixColumns are fixed shifts and masks. Nothing is indexed by a key or data
/// byte and nothing branches on one: the usual 256-byte S-box table leaks its
/// index through the cache and is not used. The cost is speed: by count some
/// 35 word operations a byte each round, most in SubBytes' four GF(2^8)
/// multiplications, several times ChaCha20's; a server without AES
/// instructions should prefer ChaCha20-Poly1305.
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

    /// Encrypts two 16-byte blocks at once: `blocks` is 32 bytes.
    func encrypt(pair blocks: [UInt8]) -> [UInt8] {
        var state = SlicedBlocks(blocks)
        state.add(roundKeys[0])
        for round in 1..<roundKeys.count {
            state.substituteBytes()
            state.shiftRows()
            if round < roundKeys.count - 1 { state.mixColumns() }
            state.add(roundKeys[round])
        }
        return state.bytes
    }

    /// Encrypts one 16-byte block.
    public func encrypt(block: [UInt8]) -> [UInt8] {
        precondition(block.count == 16)
        return Array(encrypt(pair: block + block).prefix(16))
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
        planes = InlineArray(repeating: 0)
        for byte in 0..<32 {
            let value = UInt32(bytes[byte])
            for bit in 0..<8 { planes[bit] |= (value >> UInt32(bit) & 1) << UInt32(byte) }
        }
    }

    var bytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        for byte in 0..<32 {
            var value: UInt32 = 0
            for bit in 0..<8 { value |= (planes[bit] >> UInt32(byte) & 1) << UInt32(bit) }
            bytes[byte] = UInt8(truncatingIfNeeded: value)
        }
        return bytes
    }

    mutating func add(_ roundKey: SlicedBlocks) {
        for bit in 0..<8 { planes[bit] ^= roundKey.planes[bit] }
    }

    /// SubBytes: each byte's inverse in GF(2^8) (zero stays zero), then the
    /// affine map b ^ rotl(b, 1) ^ rotl(b, 2) ^ rotl(b, 3) ^ rotl(b, 4) ^ 0x63.
    mutating func substituteBytes() {
        let x = planes
        // x^254 = x^-1, by x^2, x^3, x^6, x^12, x^15, x^240, x^252, x^254.
        let x2 = Self.square(x)
        let x3 = Self.multiply(x2, x)
        let x12 = Self.square(Self.square(x3))
        let x15 = Self.multiply(x12, x3)
        let x240 = Self.square(Self.square(Self.square(Self.square(x15))))
        let inverse = Self.multiply(Self.multiply(x240, x12), x2)
        for bit in 0..<8 {
            var plane = inverse[bit]
            for rotation in 4...7 { plane ^= inverse[(bit + rotation) % 8] }
            // 0x63 sets bits 0, 1, 5 and 6: those planes are complemented.
            planes[bit] = (0x63 >> bit) & 1 == 1 ? ~plane : plane
        }
    }

    /// The product in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, plane-wise.
    static func multiply(_ a: InlineArray<8, UInt32>, _ b: InlineArray<8, UInt32>) -> InlineArray<8, UInt32> {
        var product = InlineArray<15, UInt32>(repeating: 0)
        for i in 0..<8 {
            for j in 0..<8 { product[i + j] ^= a[i] & b[j] }
        }
        return reduce(product)
    }

    /// The square, which in characteristic 2 only spreads the bits: x^i to x^2i.
    static func square(_ a: InlineArray<8, UInt32>) -> InlineArray<8, UInt32> {
        var spread = InlineArray<15, UInt32>(repeating: 0)
        for i in 0..<8 { spread[2 * i] = a[i] }
        return reduce(spread)
    }

    /// x^8 = x^4 + x^3 + x + 1: each term from x^14 down to x^8 folds into
    /// four lower ones, the highest first so that folds into x^8-x^10 are
    /// folded again.
    static func reduce(_ wide: InlineArray<15, UInt32>) -> InlineArray<8, UInt32> {
        var wide = wide
        for high in stride(from: 14, through: 8, by: -1) {
            wide[high - 4] ^= wide[high]
            wide[high - 5] ^= wide[high]
            wide[high - 7] ^= wide[high]
            wide[high - 8] ^= wide[high]
        }
        var result = InlineArray<8, UInt32>(repeating: 0)
        for i in 0..<8 { result[i] = wide[i] }
        return result
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
    /// 2 * (s[r] + s[r+1]) + s[r+1] + s[r+2] + s[r+3] in GF(2^8).
    mutating func mixColumns() {
        let a = planes
        var next1 = a, next2 = a, sum = a
        for bit in 0..<8 {
            next1[bit] = Self.rotateColumns(a[bit], by: 1)
            next2[bit] = Self.rotateColumns(a[bit], by: 2)
            sum[bit] = a[bit] ^ next1[bit]
        }
        // Doubling moves every plane up one; bit 7's carry is x^8 = x^4 + x^3 + x + 1.
        let carry = sum[7]
        let doubled: InlineArray<8, UInt32> = [carry, sum[0] ^ carry, sum[1], sum[2] ^ carry, sum[3] ^ carry, sum[4], sum[5], sum[6]]
        for bit in 0..<8 {
            planes[bit] = doubled[bit] ^ next1[bit] ^ next2[bit] ^ Self.rotateColumns(next2[bit], by: 1)
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
