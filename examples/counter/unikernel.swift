/// Counts its boots in the key `visits` of a read-write store.
struct Counter {
    static func start(console: some Console, kvWriter store: some KeyValueWriter) -> Int32 {
        do throws(KeyValueError) {
            let before = try store.exists("visits") == .value ? try store.get("visits") : []
            let visits = (Int(String(decoding: before.filter { $0 != 10 }, as: UTF8.self)) ?? 0) + 1
            try store.set("visits", Array("\(visits)\n".utf8))
            print("set visits: \(visits)")
            print("free space: \(try store.freeSpace()) bytes")
            let files = try store.list("").map { $0.kind == .dictionary ? $0.name + "/" : $0.name }
            print("root: \(files.joined(separator: " "))")
        } catch {
            print("set visits: \(error.reason.text)")
            return 1
        }
        return 0
    }
}
