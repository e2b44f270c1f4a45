/// Comparing bytes without making Strings: the runtime looks up device-tree
/// names and boot-time keys with StaticStrings, so that an image that only
/// looks things up links none of String.

/// Whether the `count` bytes at `first` and at `second` are the same.
func sameBytes(_ first: UnsafeRawPointer, _ second: UnsafeRawPointer, _ count: Int) -> Bool {
    var index = 0
    while index < count {
        if first.load(fromByteOffset: index, as: UInt8.self) != second.load(fromByteOffset: index, as: UInt8.self) { return false }
        index &+= 1
    }
    return true
}

extension StaticString {
    /// Whether `bytes` are exactly this string's UTF-8.
    func isSpelled(by bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == utf8CodeUnitCount else { return false }
        guard let base = bytes.baseAddress else { return true }
        return sameBytes(base, utf8Start, bytes.count)
    }
}

// Big-endian fields, as network formats and IPv6 addresses write them.

func readBE16(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt16 {
    UInt16(bytes[bytes.startIndex + offset]) << 8 | UInt16(bytes[bytes.startIndex + offset + 1])
}

func readBE32(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt32 {
    UInt32(readBE16(bytes, offset)) << 16 | UInt32(readBE16(bytes, offset + 2))
}

func appendBE16(_ bytes: inout [UInt8], _ value: UInt16) {
    bytes.append(UInt8(value >> 8))
    bytes.append(UInt8(truncatingIfNeeded: value))
}

func appendBE32(_ bytes: inout [UInt8], _ value: UInt32) {
    appendBE16(&bytes, UInt16(value >> 16))
    appendBE16(&bytes, UInt16(truncatingIfNeeded: value))
}

/// Writes `value` big-endian over the two bytes at `offset` (a header filled in place).
func writeBE16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
    bytes[offset] = UInt8(value >> 8)
    bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
}

func writeBE32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    writeBE16(&bytes, offset, UInt16(value >> 16))
    writeBE16(&bytes, offset + 2, UInt16(truncatingIfNeeded: value))
}

/// A packet in one allocation: `headroom` zeros (room for the outer
/// headers, written later in place), a header of `headerLength` bytes that
/// `writeHeader` fills (its buffer starts at the header), then `payload`,
/// copied in one run (memmove). The Embedded stdlib's `append(contentsOf:)`,
/// compiled for size, moves a byte at a time, which under emulation was a
/// good part of each frame's cost. Capacity for at least `minimumCapacity`
/// bytes, so that Ethernet's pad needs no second allocation.
func packet(headroom: Int, headerLength: Int, payload: ArraySlice<UInt8>, minimumCapacity: Int = 60,
            writeHeader: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    let length = headroom + headerLength + payload.count
    return [UInt8](unsafeUninitializedCapacity: max(length, minimumCapacity)) { buffer, initialized in
        let bytes = UnsafeMutableRawBufferPointer(buffer)
        for index in 0..<headroom { bytes[index] = 0 }
        writeHeader(UnsafeMutableRawBufferPointer(rebasing: bytes[headroom..<(headroom + headerLength)]))
        payload.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: bytes[(headroom + headerLength)..<length]).copyMemory(from: source)
        }
        initialized = length
    }
}

/// `count` bytes that `fill` writes (a device read, a copy): no zero-fill
/// first, which `[UInt8](repeating:count:)` does a byte at a time in the
/// Embedded stdlib, about as dear as the read itself. Bytes `fill` leaves
/// alone hold whatever the heap held: the caller sets each before it is
/// read. What `fill` throws is rethrown; the array is then discarded.
func filledBytes<Failure: Error>(count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(Failure) -> Void) throws(Failure) -> [UInt8] {
    var failure: Failure?
    let filled = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        do throws(Failure) { try fill(UnsafeMutableRawBufferPointer(buffer)) } catch { failure = error }
        initialized = count
    }
    if let failure { throw failure }
    return filled
}

/// Whether `a` and `b` hold the same bytes, in time that depends on their
/// lengths only (no early exit): for comparing authentication tags.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<a.count { difference |= a[index] ^ b[index] }
    return difference == 0
}

/// Little-endian 32-bit words from bytes (BLAKE2s's message, ChaCha20's key
/// and nonce as RFCs 7693 and 8439 print them); a trailing partial word is dropped.
public func littleEndianWords(_ bytes: [UInt8]) -> [UInt32] {
    stride(from: 0, to: bytes.count - 3, by: 4).map { (index: Int) -> UInt32 in
        let b0 = UInt32(bytes[index]), b1 = UInt32(bytes[index + 1])
        let b2 = UInt32(bytes[index + 2]), b3 = UInt32(bytes[index + 3])
        return b0 | b1 << 8 | b2 << 16 | b3 << 24
    }
}

/// Where `pattern` first occurs in `bytes` at or after `start`, or nil
/// (a PEM armour line, the blank line that ends an HTTP head).
func firstIndex(of pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
    guard !pattern.isEmpty, bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
    for index in start...(bytes.count - pattern.count) where bytes[index] == pattern[0] {
        if bytes[index..<(index + pattern.count)].elementsEqual(pattern) { return index }
    }
    return nil
}

/// Bytes as lowercase hex text, two digits a byte, as digests are printed.
public func hexText(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 15)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// Bytes from hex text, for constants written as the standards print them
/// (a public value: this branches on its digits).
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8).map { $0 <= 0x39 ? $0 - 0x30 : ($0 | 0x20) - 0x61 + 10 }
    return stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}
