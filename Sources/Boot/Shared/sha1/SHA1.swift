/// SHA-1 (FIPS 180-4 6.1): the names git gives its objects. Only for
/// naming and checking what git wrote (SHA-1 is broken for signatures);
/// the block buffering, padding and digest are SHA-256's (`WordStateHash`).
public struct SHA1: HashFunction, WordStateHash {
    public static var blockSize: Int { 64 }
    public static var digestSize: Int { 20 }

    var state: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
    var schedule = [UInt32](repeating: 0, count: 80)
    var buffer = BlockBuffer(blockSize: 64)

    public init() {}

    static func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }

    mutating func compress(_ block: UnsafeRawBufferPointer) {
        for index in 0..<16 {
            schedule[index] = UInt32(block[4 * index]) << 24 | UInt32(block[4 * index + 1]) << 16
                | UInt32(block[4 * index + 2]) << 8 | UInt32(block[4 * index + 3])
        }
        for index in 16..<80 {
            schedule[index] = SHA1.rotateLeft(schedule[index - 3] ^ schedule[index - 8] ^ schedule[index - 14] ^ schedule[index - 16], 1)
        }
        var a = state[0], b = state[1], c = state[2], d = state[3], e = state[4]
        for index in 0..<80 {
            let mixed: UInt32, constant: UInt32
            switch index {
            case 0..<20: mixed = (b & c) | (~b & d); constant = 0x5A82_7999
            case 20..<40: mixed = b ^ c ^ d; constant = 0x6ED9_EBA1
            case 40..<60: mixed = (b & c) | (b & d) | (c & d); constant = 0x8F1B_BCDC
            default: mixed = b ^ c ^ d; constant = 0xCA62_C1D6
            }
            let next = SHA1.rotateLeft(a, 5) &+ mixed &+ e &+ constant &+ schedule[index]
            e = d
            d = c
            c = SHA1.rotateLeft(b, 30)
            b = a
            a = next
        }
        state[0] &+= a
        state[1] &+= b
        state[2] &+= c
        state[3] &+= d
        state[4] &+= e
    }
}
