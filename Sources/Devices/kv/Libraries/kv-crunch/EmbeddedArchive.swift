extension MemoryArchive {
    /// The archive `mirage-config build` embedded for the device `name`:
    /// Start/embedded.c gives the table of {name, start, end} words that
    /// the generated _build/embedded.S defines. Empty if there is none.
    public convenience init(embedded name: StaticString) {
        var entry = boot_embedded_table()
        while let words = entry, words[0] != 0 {
            if EmbeddedTable.name(at: words[0], is: name) {
                self.init(start: UnsafeRawPointer(bitPattern: words[1]), count: Int(words[2] &- words[1]))
                return
            }
            entry = words + 3
        }
        self.init(start: nil, count: 0)
    }
}

enum EmbeddedTable {
    /// Whether the NUL-terminated name at `address` is `name`.
    static func name(at address: UInt, is name: StaticString) -> Bool {
        guard let text = UnsafePointer<UInt8>(bitPattern: address) else { return false }
        let count = name.utf8CodeUnitCount
        for index in 0..<count where text[index] != name.utf8Start[index] { return false }
        return text[count] == 0
    }
}

@_extern(c) func boot_embedded_table() -> UnsafePointer<UInt>?
