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
        return 0
    }
}

/// Hides a value from the optimizer, so conversions happen at run time.
@inline(never)
func opaque<T>(_ value: T) -> T { value }
