/// Prints the boot-time key --value as hex, one line.
struct Echoed {
    static func start(console: some Console) -> Int32 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        console.write("value: ")
        for byte in Keys.value.utf8 {
            console.write(byte: digits[Int(byte >> 4)])
            console.write(byte: digits[Int(byte & 0xF)])
        }
        console.write(byte: UInt8(ascii: "\n"))
        return 0
    }
}
