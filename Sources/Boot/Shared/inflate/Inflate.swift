/// DEFLATE decompression (RFC 1951) and the zlib wrapper around it (RFC
/// 1950), as git stores every object of a pack. Written after Mark Adler's
/// puff.c, the reference decoder that zlib ships: canonical Huffman codes
/// decoded by their counts per length, no tables beyond them, every length
/// and distance checked. Input that is not valid DEFLATE is an error, never
/// a crash or bytes beyond the limit the caller sets.
public enum InflateError: Error, Equatable {
    /// The input ended inside the stream.
    case truncated
    /// Not a zlib header: method 8, window of at most 32 KiB, check bits, no preset dictionary.
    case badHeader
    /// Block type 3, which RFC 1951 reserves.
    case badBlockType
    /// A stored block whose length and its complement disagree.
    case badStoredLength
    /// A Huffman code that is over-subscribed or incomplete, a code that
    /// decodes to no symbol, or a repeat with nothing to repeat.
    case badCode
    /// A back-reference further back than the output so far.
    case distanceTooFar
    /// The stream's Adler-32 does not match what it decompressed to.
    case badChecksum
    /// The output would be longer than the caller's limit.
    case tooLarge
}

public enum Inflate {
    /// Decompresses the zlib stream at `input[start...]`; returns the bytes
    /// and where the stream ended (after its Adler-32). `limit`: the most
    /// bytes the output may have (git knows each object's size); `reserving`:
    /// the output's room made at once, as below.
    public static func zlib(_ input: [UInt8], from start: Int = 0, limit: Int, reserving: Int = 1 << 16) throws(InflateError) -> (output: [UInt8], end: Int) {
        var bits = BitReader(input, at: start)
        let output = try zlib(&bits, limit: limit, reserving: reserving)
        return (output, bits.consumed)
    }

    /// Decompresses a zlib stream whose bytes `more` gives piece by piece (nil
    /// at their end), so that a large stream on a disk need not be in memory
    /// beside what it decompresses to. `reserving`: the output's room made at
    /// once (its known size), instead of growing it, which for a while needs
    /// room for both the old and the new. Returns the bytes and how many of
    /// the input's it used.
    public static func zlib(reading more: @escaping () throws(InflateError) -> [UInt8]?, limit: Int,
                            reserving: Int) throws(InflateError) -> (output: [UInt8], consumed: Int) {
        var bits = BitReader(more: more)
        let output = try zlib(&bits, limit: limit, reserving: reserving)
        return (output, bits.consumed)
    }

    static func zlib(_ bits: inout BitReader, limit: Int, reserving: Int) throws(InflateError) -> [UInt8] {
        let method = try bits.byte(), flags = try bits.byte()
        guard method & 0x0F == 8, method >> 4 <= 7, (UInt16(method) << 8 | UInt16(flags)) % 31 == 0, flags & 0x20 == 0 else {
            throw .badHeader
        }
        let output = try inflate(&bits, limit: limit, reserving: reserving)
        var stored: UInt32 = 0
        for _ in 0..<4 { stored = stored << 8 | UInt32(try bits.byte()) }
        guard stored == adler32(output) else { throw .badChecksum }
        return output
    }

    /// Decompresses raw DEFLATE data at `input[start...]`; returns the bytes
    /// and the first byte after the stream's last block.
    public static func raw(_ input: [UInt8], from start: Int = 0, limit: Int) throws(InflateError) -> (output: [UInt8], end: Int) {
        var bits = BitReader(input, at: start)
        let output = try inflate(&bits, limit: limit, reserving: 1 << 16)
        bits.align()
        return (output, bits.consumed)
    }

    /// Adler-32 (RFC 1950 8.2).
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var index = 0
        while index < bytes.count {
            // 5552 bytes keep both sums below 2^32 before the modulo (zlib's NMAX).
            let end = min(index + 5552, bytes.count)
            while index < end {
                a &+= UInt32(bytes[index])
                b &+= a
                index += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    static func inflate(_ bits: inout BitReader, limit: Int, reserving: Int) throws(InflateError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, reserving))
        var last = false
        while !last {
            last = try bits.take(1) == 1
            switch try bits.take(2) {
            case 0: try stored(&bits, into: &output, limit: limit)
            case 1: try codes(&bits, into: &output, limit: limit, lengths: fixedLengths, distances: fixedDistances)
            case 2:
                let (lengths, distances) = try dynamicCodes(&bits)
                try codes(&bits, into: &output, limit: limit, lengths: lengths, distances: distances)
            default: throw .badBlockType
            }
        }
        return output
    }

    /// A stored block: LEN, its complement, LEN bytes (RFC 1951 3.2.4).
    static func stored(_ bits: inout BitReader, into output: inout [UInt8], limit: Int) throws(InflateError) {
        bits.align()
        let length = Int(try bits.byte()) | Int(try bits.byte()) << 8
        let complement = Int(try bits.byte()) | Int(try bits.byte()) << 8
        guard length == ~complement & 0xFFFF else { throw .badStoredLength }
        guard output.count + length <= limit else { throw .tooLarge }
        try bits.copy(length, into: &output)
    }

    static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                         1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// The literals, lengths and distances of a block, until end-of-block (RFC 1951 3.2.5).
    static func codes(_ bits: inout BitReader, into output: inout [UInt8], limit: Int,
                      lengths: HuffmanCode, distances: HuffmanCode) throws(InflateError) {
        while true {
            let symbol = try lengths.decode(&bits)
            if symbol < 256 {
                guard output.count < limit else { throw .tooLarge }
                output.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < lengthBase.count else { throw .badCode }   // 286 and 287 are never used
            let length = Int(lengthBase[lengthIndex]) + Int(try bits.take(Int(lengthExtra[lengthIndex])))
            let distanceIndex = try distances.decode(&bits)
            guard distanceIndex < distanceBase.count else { throw .badCode }   // 30 and 31 are never used
            let distance = Int(distanceBase[distanceIndex]) + Int(try bits.take(Int(distanceExtra[distanceIndex])))
            guard distance <= output.count else { throw .distanceTooFar }
            guard output.count + length <= limit else { throw .tooLarge }
            // Byte by byte: a copy may overlap what it writes (distance 1 repeats a byte).
            var from = output.count - distance
            for _ in 0..<length {
                output.append(output[from])
                from += 1
            }
        }
    }

    /// The fixed codes of block type 1 (RFC 1951 3.2.6).
    static let fixedLengths = try! HuffmanCode(lengths: [UInt8](repeating: 8, count: 144) + [UInt8](repeating: 9, count: 112)
                                                + [UInt8](repeating: 7, count: 24) + [UInt8](repeating: 8, count: 8))
    static let fixedDistances = try! HuffmanCode(lengths: [UInt8](repeating: 5, count: 30), allowIncomplete: true)

    /// The order in which a dynamic block gives its code length code's lengths.
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// A dynamic block's codes, themselves Huffman coded (RFC 1951 3.2.7).
    static func dynamicCodes(_ bits: inout BitReader) throws(InflateError) -> (HuffmanCode, HuffmanCode) {
        let literalCount = Int(try bits.take(5)) + 257
        let distanceCount = Int(try bits.take(5)) + 1
        let codeLengthCount = Int(try bits.take(4)) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw .badCode }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[index]] = UInt8(try bits.take(3)) }
        let codeLengthCode = try HuffmanCode(lengths: codeLengthLengths)
        var lengths: [UInt8] = []
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&bits)
            let value: UInt8, repeats: Int
            switch symbol {
            case 0..<16: value = UInt8(symbol); repeats = 1
            case 16:
                guard let previous = lengths.last else { throw .badCode }
                value = previous; repeats = 3 + Int(try bits.take(2))
            case 17: value = 0; repeats = 3 + Int(try bits.take(3))
            default: value = 0; repeats = 11 + Int(try bits.take(7))
            }
            guard lengths.count + repeats <= literalCount + distanceCount else { throw .badCode }
            lengths.append(contentsOf: [UInt8](repeating: value, count: repeats))
        }
        guard lengths[256] != 0 else { throw .badCode }   // no end-of-block code
        // A code of one symbol is incomplete (its one code is 1 bit long, the
        // other 1-bit pattern unused); RFC 1951 3.2.7 allows it and zlib takes it.
        func code(_ lengths: [UInt8]) throws(InflateError) -> HuffmanCode {
            try HuffmanCode(lengths: lengths, allowIncomplete: lengths.filter { $0 != 0 }.count <= 1)
        }
        return (try code(Array(lengths[0..<literalCount])), try code(Array(lengths[literalCount...])))
    }
}

/// A canonical Huffman code as puff.c keeps it: how many codes each length
/// has, and the symbols in code order.
struct HuffmanCode {
    var counts = [UInt16](repeating: 0, count: 16)
    var symbols: [UInt16] = []

    init(lengths: [UInt8], allowIncomplete: Bool = false) throws(InflateError) {
        for length in lengths { counts[Int(length)] += 1 }
        var left = 1
        for length in 1..<16 {
            left <<= 1
            left -= Int(counts[length])
            guard left >= 0 else { throw .badCode }   // over-subscribed
        }
        guard left == 0 || allowIncomplete || counts[0] == lengths.count else { throw .badCode }
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + Int(counts[length]) }
        symbols = [UInt16](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length != 0 {
            symbols[offsets[Int(length)]] = UInt16(symbol)
            offsets[Int(length)] += 1
        }
    }

    /// The next symbol: the code's bits are read one at a time, first bit
    /// the most significant, and compared with the first code of each length.
    func decode(_ bits: inout BitReader) throws(InflateError) -> Int {
        var code = 0, first = 0, index = 0
        for length in 1..<16 {
            code |= Int(try bits.take(1))
            let count = Int(counts[length])
            if code - first < count { return Int(symbols[index + code - first]) }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw .badCode   // ran out of lengths: the bits are no code (an incomplete code's gap)
    }
}

/// Bits from bytes, least significant first (RFC 1951 3.1.1): from one
/// array, or from pieces that `more` gives as they are needed.
struct BitReader {
    /// The piece being read.
    var input: [UInt8]
    var position: Int
    /// Bytes of the pieces before this one.
    var before = 0
    let more: (() throws(InflateError) -> [UInt8]?)?
    var buffer: UInt32 = 0
    var count = 0

    init(_ input: [UInt8], at position: Int) {
        self.input = input
        self.position = position
        more = nil
    }

    init(more: @escaping () throws(InflateError) -> [UInt8]?) {
        input = []
        position = 0
        self.more = more
    }

    /// Makes `position` a byte of `input`: takes the next piece when this one is read.
    mutating func fill() throws(InflateError) {
        while position >= input.count {
            guard let more, let next = try more() else { throw .truncated }
            before += input.count
            input = next
            position = 0
        }
    }

    /// The next `number` bits (0...16) as an integer, the first bit lowest.
    mutating func take(_ number: Int) throws(InflateError) -> UInt32 {
        while count < number {
            if position >= input.count { try fill() }
            buffer |= UInt32(input[position]) << UInt32(count)
            position += 1
            count += 8
        }
        let value = buffer & ((1 << UInt32(number)) - 1)
        buffer >>= UInt32(number)
        count -= number
        return value
    }

    /// Drops the bits left of the current byte. `take` loads a byte only
    /// while it has fewer bits than asked for, so fewer than 8 are ever left:
    /// none of them is of a byte after the current one.
    mutating func align() {
        buffer = 0
        count = 0
    }

    /// The next whole byte (after `align`).
    mutating func byte() throws(InflateError) -> UInt8 {
        if position >= input.count { try fill() }
        defer { position += 1 }
        return input[position]
    }

    /// Appends the next `length` whole bytes to `output` (after `align`).
    mutating func copy(_ length: Int, into output: inout [UInt8]) throws(InflateError) {
        var left = length
        while left > 0 {
            if position >= input.count { try fill() }
            let part = min(left, input.count - position)
            output.append(contentsOf: input[position..<(position + part)])
            position += part
            left -= part
        }
    }

    /// Bytes used so far, of every piece: where the stream ends once it is read.
    var consumed: Int { before + position }
}
