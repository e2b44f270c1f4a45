/// Prints 32 random bytes in hex and the sources that seeded them, then exits 0.
struct RandomBytes {
    static func start(console: some Console, entropy: some EntropyDevice) -> Int32 {
        var line = "random:"
        for byte in entropy.bytes(32) {
            line += byte < 16 ? " 0" : " "
            line += String(byte, radix: 16)
        }
        console.log(line)
        for contribution in entropy.contributions {
            console.log("source \(contribution.source): \(contribution.bytes) bytes, \(contribution.claimedBits) bits claimed")
        }
        // The stdlib's randomness (Hasher seeds, random()) comes from the same generator.
        let roll = Int.random(in: 1...6)
        console.log("die roll \(roll)")
        return 0
    }
}
