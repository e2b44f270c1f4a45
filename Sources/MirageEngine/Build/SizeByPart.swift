/// Which part of an image takes the space: the runtime, each driver, the
/// job, the Swift stdlib, from the sizes of the ELF's symbols. The image's
/// Swift is the job's module (Unikernel) and the runtime's (MirageRuntime),
/// or one module built `--whole-image`; the runtime's module holds the drivers
/// too, so a symbol is placed by the first type or function its mangled name names: one a driver's sources declare, the
/// job's, or the runtime's; the stdlib's own symbols (and its Unicode
/// tables) are the stdlib's; a C symbol is its driver's if a driver defines
/// it, else the runtime's start code and C library.
public struct SizeByPart {
    /// Part name and bytes, largest first.
    public let parts: [(part: String, bytes: UInt64)]
    /// Each driver's bytes, by driver name (those with any in the image).
    public let bytesByDriver: [String: UInt64]

    public init(symbols: [ElfImage.Symbol], job: String, drivers: [Driver]) throws {
        var totals: [String: UInt64] = [:]
        var owners: [String: String] = [:]
        for driver in drivers {
            for name in try driver.declaredNames().union(driver.type.map { [$0] } ?? []) where owners[name] == nil {
                owners[name] = "driver \(driver.name)"
            }
        }
        for symbol in symbols where symbol.size > 0 {
            totals[SizeByPart.part(of: symbol.name, job: job, owners: owners), default: 0] += symbol.size
        }
        parts = totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        bytesByDriver = Dictionary(uniqueKeysWithValues: drivers.compactMap { driver in
            totals["driver \(driver.name)"].map { (driver.name, $0) }
        })
    }

    /// The mangled prefixes of the image's own Swift modules: the job's (with
    /// the glue, and with everything in a whole-image build) and the runtime's.
    static let modulePrefixes = ["$e9Unikernel", "$e\(RuntimeModule.name.count)\(RuntimeModule.name)"]

    static func part(of name: String, job: String, owners: [String: String]) -> String {
        if name.hasPrefix("$es") || name.hasPrefix("_swift_stdlib") || name.hasPrefix("swift_") { return "Swift stdlib" }
        guard let prefix = modulePrefixes.first(where: { name.hasPrefix($0) }) else {
            return name.hasPrefix("$e") ? "Swift stdlib" : owners[name] ?? "runtime (C and assembly)"
        }
        guard let entity = firstIdentifier(in: name.dropFirst(prefix.count)) else { return "runtime (Swift)" }
        if entity == job { return "job \(job)" }
        return owners[entity] ?? "runtime (Swift)"
    }

    /// The `<length><identifier>` a mangled name continues with.
    static func firstIdentifier(in text: Substring) -> String? {
        let digits = text.prefix { $0.isNumber }
        guard let length = Int(digits), length > 0 else { return nil }
        let rest = text.dropFirst(digits.count)
        guard rest.count >= length else { return nil }
        return String(rest.prefix(length))
    }

    public var text: String {
        let total = parts.map(\.bytes).reduce(0, +)
        var text = "Size by part (symbols: code and data)\n"
        for (part, bytes) in parts {
            let share = total == 0 ? 0 : Double(bytes) * 100 / Double(total)
            text += "  " + part.padding(toLength: 34, withPad: " ", startingAt: 0) + String(repeating: " ", count: max(0, 9 - "\(bytes)".count))
                + "\(bytes) B  " + String(format: "%5.1f%%", share) + "\n"
        }
        return text
    }
}
