/// Lists and reads a key-value store; its code is the same whatever store
/// config.swift chose. It only reads (`some KeyValueReader`), so it runs on
/// every store; examples/counter writes, and takes a writable one.
struct KVDemo {
    static func start(console: some Console, kv: some KeyValueReader) -> Int32 {
        guard (try? kv.exists("hello.txt")) != nil else {
            print("hello.txt: not in this store (put files in it: mirage-config kv put DISK KEY FILE)")
            return 1
        }
        return show(kv) ? 0 : 1
    }

    /// Prints the htdocs files the store holds; false if one could not be read.
    static func show(_ kv: some KeyValueReader) -> Bool {
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
