import Foundation

/// What `run --profile` saw: call stacks sampled at a fixed rate (leaf
/// first: the program counter, then the return address of each frame),
/// named by the image's function symbols. It prints the functions the
/// samples fell in (self) and under (total), and writes the stacks folded,
/// one line per distinct stack, as flamegraph.pl and speedscope read them.
/// Pure: the sampler gathers addresses, this names and counts them.
public struct Profile {
    /// Each sample's stack, leaf first, as addresses.
    public private(set) var stacks: [[UInt32]] = []
    public let symbols: SymbolTable
    /// How to print a symbol's name (demangled), where it differs.
    var display: [String: String] = [:]

    public init(symbols: SymbolTable) {
        self.symbols = symbols
    }

    public mutating func add(_ stack: [UInt32]) {
        if !stack.isEmpty { stacks.append(stack) }
    }

    /// A sample's stack as names, root first; a return address is named by
    /// the call before it (the address minus one), so a call that ends its
    /// function is not placed in the next; the same function twice in a row
    /// (a frame without a record, walked twice) counts once.
    func names(of stack: [UInt32]) -> [String] {
        var names: [String] = []
        for raw in symbolNames(of: stack) {
            let name = display[raw] ?? raw
            if names.last != name { names.append(name) }
        }
        return names.reversed()
    }

    /// The symbol of each frame, leaf first, as the image names it.
    func symbolNames(of stack: [UInt32]) -> [String] {
        stack.enumerated().map { index, address in symbols.name(at: index == 0 ? address : address &- 1) }
    }

    /// Prints the functions the samples name through `demangle` (raw names
    /// in, the same number of printable names out).
    public mutating func nameFunctions(_ demangle: ([String]) -> [String]) {
        let names = Set(stacks.flatMap(symbolNames(of:))).sorted()
        let printed = demangle(names)
        guard printed.count == names.count else { return }
        display = Dictionary(uniqueKeysWithValues: zip(names, printed).map { ($0, $1.replacingOccurrences(of: ";", with: ",")) })
    }

    /// Lines of `root;caller;leaf COUNT`, in name order.
    public var folded: String {
        var counts: [String: Int] = [:]
        for stack in stacks { counts[names(of: stack).joined(separator: ";"), default: 0] += 1 }
        return counts.keys.sorted().map { "\($0) \(counts[$0]!)\n" }.joined()
    }

    public struct Line: Equatable {
        public let function: String
        /// Samples whose program counter was in it.
        public let selfSamples: Int
        /// Samples with it anywhere on the stack.
        public let totalSamples: Int
    }

    /// The functions with the most samples in them (self), ties by total and name.
    public func top(_ count: Int) -> [Line] {
        var selfCounts: [String: Int] = [:], totalCounts: [String: Int] = [:]
        for stack in stacks {
            let names = names(of: stack)
            if let leaf = names.last { selfCounts[leaf, default: 0] += 1 }
            for name in Set(names) { totalCounts[name, default: 0] += 1 }
        }
        return totalCounts.keys.map { Line(function: $0, selfSamples: selfCounts[$0] ?? 0, totalSamples: totalCounts[$0]!) }
            .sorted { ($0.selfSamples, $0.totalSamples, $1.function) > ($1.selfSamples, $1.totalSamples, $0.function) }
            .prefix(count).map { $0 }
    }

    /// The report `run --profile` prints.
    public func report(top count: Int = 25, rate: Int) -> String {
        guard !stacks.isEmpty else { return "profile: no samples (the unikernel ended before the first)\n" }
        let total = Double(stacks.count)
        var text = "profile: \(stacks.count) samples at \(rate) Hz; self and total share of samples\n"
        text += "    self   total  function\n"
        for line in top(count) {
            text += String(format: "  %5.1f%%  %5.1f%%  ", Double(line.selfSamples) * 100 / total, Double(line.totalSamples) * 100 / total)
                + line.function + "\n"
        }
        return text
    }
}

/// The image's functions by address.
public struct SymbolTable {
    struct Function {
        let start: UInt32
        let end: UInt32
        let name: String
    }
    let functions: [Function]

    public init(_ symbols: [ElfImage.Symbol]) {
        functions = symbols.filter { $0.isFunction && $0.address <= UInt64(UInt32.max) }
            .sorted { ($0.address, $0.name) < ($1.address, $1.name) }
            .map { Function(start: UInt32($0.address), end: UInt32(min($0.address + max($0.size, 1), UInt64(UInt32.max))), name: $0.name) }
    }

    /// The function holding `address`, or the address itself in hex.
    public func name(at address: UInt32) -> String {
        let target = address & ~1
        var low = 0, high = functions.count
        while low < high {          // the last function starting at or before the address
            let middle = (low + high) / 2
            if functions[middle].start <= target { low = middle + 1 } else { high = middle }
        }
        if low > 0, target < functions[low - 1].end { return functions[low - 1].name }
        return "0x" + String(target, radix: 16)
    }

    /// Demangles `names` with swift-demangle beside swiftc (the same order
    /// and count back), or returns them unchanged if it is not there.
    public static func demangled(_ names: [String]) -> [String] {
        guard !names.isEmpty, let swiftc = findInPath("swiftc") else { return names }
        let tool = swiftc.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("swift-demangle")
        guard FileManager.default.isExecutableFile(atPath: tool.path),
              let result = try? Shell.run(tool, ["--compact", "--simplified"] + names, timeout: 60), result.status == 0 else { return names }
        let lines = result.output.split(separator: "\n").map(String.init)
        return lines.count == names.count ? lines : names
    }
}

/// `run --profile`'s files: the stacks folded (`folded.txt`) and each
/// sample's raw addresses (`samples.txt`, leaf first), named with the
/// image's symbols.
public enum ProfileReport {
    /// Writes the files into `folder`; returns the report with where they are.
    public static func write(_ stacks: [[UInt32]], rate: Int, image: URL, to folder: URL) throws -> String {
        var profile = Profile(symbols: SymbolTable(try ElfImage.sizedSymbols(of: image)))
        stacks.forEach { profile.add($0) }
        profile.nameFunctions(SymbolTable.demangled)
        try FileManager.default.createFolder(folder)
        let folded = folder.appendingPathComponent("folded.txt")
        try Data(profile.folded.utf8).write(to: folded)
        let raw = stacks.map { $0.map { String($0, radix: 16) }.joined(separator: " ") + "\n" }.joined()
        try Data(raw.utf8).write(to: folder.appendingPathComponent("samples.txt"))
        return profile.report(rate: rate) + "profile: stacks folded in \(displayPath(folded.path)) (flamegraph.pl, speedscope), raw in samples.txt\n"
    }
}
