/// The stream the crash test cuts at every write: sets (inline and
/// multi-block values), overwrites, renames across directories and
/// removals, each printed as "ack N" once it returned. changes.py, which
/// checks the disk afterwards, computes the same stream.
struct CrashStream {
    static let changes = 18

    static func start(console: some Console, kvWriter kv: some KeyValueWriter) -> Int32 {
        if Keys.mode == "verify" { return verify(kv) }
        for index in 0..<changes {
            do throws(KeyValueError) {
                switch index % 9 {
                case 4: try kv.rename("k/\((index - 1) % 5)", to: "moved/\(index % 3)")
                case 8: try kv.remove("k/\((index - 1) % 5)")
                default: try kv.set("k/\(index % 5)", value(index))
                }
                print("ack \(index)")
            } catch {
                print("change \(index) failed: \(error.reason.text)")
                return 1
            }
        }
        print("all \(changes) changes acknowledged")
        return 0
    }

    /// Value `index`: sizes from empty to a few blocks, bytes from the index.
    static func value(_ index: Int) -> [UInt8] {
        (0..<(index * 397 % 1700)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    static func verify(_ kv: some KeyValueReader) -> Int32 {
        do throws(KeyValueError) {
            for folder in ["k", "moved"] where try kv.exists(folder) == .dictionary {
                for entry in try kv.list(folder) {
                    let key = folder + "/" + entry.name
                    let bytes = try kv.get(key)
                    var digest = ""
                    for byte in try kv.digest(key) { digest += (byte < 16 ? "0" : "") + String(byte, radix: 16) }
                    print("key \(key) \(bytes.count) \(digest)")
                }
            }
            print("verified")
            return 0
        } catch {
            print("verify failed: \(error.reason.text)")
            return 1
        }
    }
}
