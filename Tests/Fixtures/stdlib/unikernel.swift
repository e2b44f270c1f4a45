/// Uses the parts of the Embedded stdlib a person reaches for first, and
/// prints what each gave, so a boot test can check the values.
struct Stdlib {
    static func start(console: some Console, entropy: some EntropyDevice) -> Int32 {
        // Collections and hashing.
        var counts: [String: Int] = [:]
        for word in ["b", "a", "b", "c", "b"] { counts[word, default: 0] += 1 }
        let words = Set(counts.keys)
        print("dictionary b=\(counts["b"]!) a=\(counts["a"]!) set \(words.count) has-c \(words.contains("c"))")
        let sorted = counts.keys.sorted()
        print("sorted \(sorted.joined(separator: ","))")
        // Strings: comparison, Unicode.
        let cafe1 = "caf\u{E9}", cafe2 = "cafe\u{301}"
        print("string equal \(cafe1 == cafe2) less \("apple" < "banana") count \(cafe2.count) utf8 \(cafe2.utf8.count)")
        print("unicode \("Grüße, 世界".uppercased()) \("ÉCOLE".lowercased())")
        // Floating point: conversion and formatting.
        let big = opaque(Int64(9_007_199_254_740_993))
        let asDouble = Double(big)
        print("double \(asDouble) back \(Int64(asDouble)) third \(opaque(1.0) / 3.0) float \(opaque(Float(2.5)) * 2)")
        print("convert \(Int64(opaque(-2.75))) \(UInt64(opaque(1.8e19))) \(Double(opaque(UInt64.max))) \(Float(opaque(Int64.min)))")
        print("math \(opaque(2.0).squareRoot()) \(opaque(7.5).rounded(.down)) \(opaque(-7.5).rounded()) \(Double.pi)")
        // 64-bit arithmetic.
        let product = opaque(UInt64(0xFFFF_FFFF)) * 0x1_0000_0001
        print("int64 \(product) \(opaque(Int64.min) / 3) \(opaque(Int64.max) % 1000) \((opaque(UInt64(1)) << 63) >> 7)")
        // Random numbers.
        let roll = Int.random(in: 1...6)
        print("random \(roll >= 1 && roll <= 6)")
        print("copies \(copiesAgree())")
        return 0
    }
}

/// Whether memcpy and memmove (Start/libc.c, through copyMemory) agree with
/// a byte loop for every length to 80 and every alignment of both ends:
/// apart, overlapping from below and overlapping from above.
func copiesAgree() -> Bool {
    var mismatches = 0
    for length in 0...80 {
        for sourceOffset in 0..<8 {
            for distance in [-120, -9, -8, -7, -3, -1, 1, 2, 3, 5, 8, 9, 13, 100, 101] {
                var memory = (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
                let source = 128 + sourceOffset, destination = source + distance
                // An overlapping move leaves the bytes the source held before it.
                var expected = memory
                for index in 0..<length { expected[destination + index] = memory[source + index] }
                memory.withUnsafeMutableBytes { bytes in
                    let base = opaque(bytes.baseAddress!)
                    (base + destination).copyMemory(from: base + source, byteCount: opaque(length))
                }
                if memory != expected { mismatches += 1 }
            }
        }
    }
    return mismatches == 0
}

/// Hides a value from the optimizer, so conversions happen at run time.
@inline(never)
func opaque<T>(_ value: T) -> T { value }
