/// Lists, reads and updates a key-value store (a visit counter); its code
/// is the same whatever store config.swift chose.
struct KVDemo {
    static func start(console: some Console, kv: some KeyValueStore) -> Int32 {
        if (try? kv.exists("hello.txt")) == nil {
            print("hello.txt: not in this store (a new one? put files in it: mirage-config kv put DISK KEY FILE)")
        } else if !show(kv) {
            return 1
        }
        do throws(KeyValueError) {
            let before = try kv.exists("visits") == .value ? try kv.get("visits") : []
            let visits = (Int(String(decoding: before.filter { $0 != 10 }, as: UTF8.self)) ?? 0) + 1
            try kv.set("visits", Array("\(visits)\n".utf8))
            print("set visits: \(visits)")
            print("free space: \(try kv.freeSpace()) bytes")
        } catch {
            print("set visits: \(error.reason.text)")
        }
        return 0
    }

    /// Prints the htdocs files the store holds; false if one could not be read.
    static func show(_ kv: some KeyValueStore) -> Bool {
        do throws(KeyValueError) {
            print("root: \(describe(try kv.list("")))")
            print("docs: \(describe(try kv.list("docs")))")
            let hello = try kv.get("hello.txt")
            print("hello.txt (\(try kv.size("hello.txt")) bytes): \(String(decoding: hello.prefix { $0 != 10 }, as: UTF8.self))")
            print("hello.txt digest: \(hex(try kv.digest("hello.txt")))")
            let middle = try kv.get("docs/bytes.bin", offset: 5000, length: 4)
            print("docs/bytes.bin \(try kv.size("docs/bytes.bin")) bytes; at 5000: \(middle.map { String($0) }.joined(separator: " "))")
            print("docs/bytes.bin digest: \(hex(try kv.digest("docs/bytes.bin")))")
            print("missing.txt exists: \(try kv.exists("missing.txt") == nil ? "no" : "yes")")
        } catch {
            print("kv failed: \(error.reason.text)")
            return false
        }
        do throws(KeyValueError) {
            _ = try kv.get("missing.txt")
            print("get missing.txt: found?")
            return false
        } catch {
            print("get missing.txt: \(error.reason.text)")
        }
        return true
    }

    static func describe(_ entries: [KeyValueEntry]) -> String {
        entries.map { $0.kind == .dictionary ? $0.name + "/" : $0.name }.joined(separator: " ")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            if byte < 16 { text += "0" }
            text += String(byte, radix: 16)
        }
        return text
    }
}
