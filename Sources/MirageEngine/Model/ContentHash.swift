import Foundation

/// FNV-1a, 64 bits: a content hash for cache keys (not for security).
public struct ContentHash {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ data: Data) {
        for byte in data {
            state ^= UInt64(byte)
            state = state &* 0x100_0000_01b3
        }
        mixSeparator()
    }

    public mutating func add(_ text: String) { add(Data(text.utf8)) }

    /// Ends one input, so that "ab"+"c" and "a"+"bc" hash differently.
    private mutating func mixSeparator() {
        state ^= 0xff
        state = state &* 0x100_0000_01b3
    }

    public var hex: String { String(format: "%016llx", state) }
}
