import _Volatile

/// Services of the runtime that every image has: the console that `print`
/// and fault reports use, the device tree, exiting, and fatal errors.
public enum Runtime {
    /// Where `print()` and fault reports go: the console the glue attached.
    nonisolated(unsafe) static var consoleWriter: ((UInt8) -> Void)?

    /// Sends `print()` output and fault reports to `console`.
    public static func attach(console: some Console) {
        consoleWriter = { console.write(byte: $0) }
    }

    /// The device tree the unikernel was booted with: the one a boot loader
    /// passed in r2 if it is valid, else the one `run` placed at the address
    /// the linker script reserved for it.
    public static func deviceTree(passedAt address: UInt) -> DeviceTree {
        // r2 is whatever the loader left there: read it only if it points into RAM.
        if boot_in_ram(address, 40) != 0, let tree = DeviceTree(address: address),
           boot_in_ram(address, UInt(truncatingIfNeeded: tree.size)) != 0 {
            return tree
        }
        if let tree = DeviceTree(address: UInt(bitPattern: boot_reserved_dtb_address())) { return tree }
        fatal("no device tree: expected one passed in r2 or at the reserved DTB address")
    }

    /// The job's return value as an exit status: one outside 0...255 would be
    /// cut to its low byte (256 would look like success), so it is reported
    /// and the unikernel ends with 70 instead.
    public static func exitStatus(_ status: Int32) -> Int32 {
        guard status < 0 || status > 255 else { return status }
        writeRaw("FATAL: the job returned ")
        if status < 0 { writeRaw("-") }
        writeDecimal(UInt64(status.magnitude))
        writeRaw("; an exit status is 0...255\n")
        return 70
    }

    /// Says how long the boot took, when `run --timings` asked (the word
    /// `--mirage.timings=true` in /chosen/bootargs): the cycle counter
    /// start.S started at reset, read as the job starts. The word is looked
    /// for, not parsed: BootArguments' parser (quotes, escapes, a buffer per
    /// word) would add about 2 KB to an image that has no boot-time keys, and
    /// `run --timings` writes the word exactly so.
    public static func reportTimings(_ tree: DeviceTree) {
        let cycles = boot_cycles()
        guard let bootArguments = tree.node(at: "/chosen")?.property("bootargs")?.bytes,
              contains(bootArguments, "--mirage.timings=true") else { return }
        timingsRequested = true
        writeRaw("mirage: ")
        writeDecimal(UInt64(cycles))
        writeRaw(" cycles from reset to the job\n")
    }

    nonisolated(unsafe) static var timingsRequested = false

    /// Says, when `run --timings` asked, what the tasks did: how many were
    /// started, how many lived at once, how often the loop switched and
    /// slept, and each kind of task's deepest stack use against its size;
    /// then what each layer counted (`Counters`).
    public static func reportTasks() {
        guard timingsRequested else { return }
        let statistics = Tasks.statistics
        writeRaw("mirage: tasks: ")
        writeDecimal(UInt64(statistics.created))
        writeRaw(" created, at most ")
        writeDecimal(UInt64(statistics.peak))
        writeRaw(" at once, ")
        writeDecimal(statistics.switches)
        writeRaw(" switches, ")
        writeDecimal(statistics.sleeps)
        writeRaw(" sleeps; stack high-water:")
        for mark in statistics.highWater {
            writeRaw(" ")
            writeRaw(mark.name)
            writeRaw(" ")
            writeDecimal(UInt64(mark.used))
            writeRaw("/")
            writeDecimal(UInt64(mark.size))
        }
        writeRaw(" bytes\n")
        writeRaw("mirage: counters: ")
        let counts: [(StaticString, UInt64)] = [
            ("interrupts", Counters.interrupts), ("wake-ups", Counters.wakeUps), ("allocations", Counters.allocations),
            ("frames in", Counters.framesReceived), ("frames out", Counters.framesSent),
            ("bytes copied", Counters.bytesCopied), ("retransmissions", Counters.retransmissions),
            ("block requests", Counters.blockRequests), ("block bytes", Counters.blockBytes),
            ("DNS queries", Counters.dnsQueries), ("DNS answers ignored", Counters.dnsAnswersIgnored),
        ]
        for (index, count) in counts.enumerated() {
            if index > 0 { writeRaw(", ") }
            writeRaw(count.0)
            writeRaw(" ")
            writeDecimal(count.1)
        }
        writeRaw("\n")
    }

    /// Whether `bytes` holds `word`.
    static func contains(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard count > 0, bytes.count >= count, let base = bytes.baseAddress else { return false }
        for start in 0...(bytes.count - count) where sameBytes(base + start, word.utf8Start, count) { return true }
        return false
    }

    /// The CPU's cycle counter (PMCCNTR, started at reset; it wraps). Under
    /// QEMU it counts nanoseconds of 1 GHz, or guest instructions with
    /// `-icount shift=0`, on the CPUs QEMU gives a counter (Cortex-A15, A7).
    public static var cycles: UInt32 { boot_cycles() }

    /// Guest instructions retired (a PMU event counter; it wraps), counted
    /// by QEMU under `-icount` only, where it is the same on any machine:
    /// what the instruction-count regression test holds. Idle time is not
    /// in it. Cortex-A15 and A7 (virt, orangepi-pc).
    public static var instructions: UInt32 { boot_instructions() }

    /// Ends the unikernel with `status` (qemu exits with it).
    public static func exit(_ status: Int32) -> Never {
        boot_exit(status)
    }

    /// Prints `message` (and `detail`) and ends the unikernel with status 70.
    /// Never inlined: a stop is rare, and each call site stays a call.
    @inline(never)
    public static func fatal(_ message: StaticString, _ detail: StaticString = "") -> Never {
        writeRaw("FATAL: ")
        writeRaw(message)
        writeRaw(detail)
        writeRunningTask()
        writeRaw("\n")
        boot_exit(70)
    }

    /// Prints `message` with text that is only known at run time, and ends
    /// the unikernel with status 70.
    public static func fatal(_ message: StaticString, text: String) -> Never {
        writeRaw("FATAL: ")
        writeRaw(message)
        for byte in text.utf8 { bootConsoleWriteByte(byte) }
        writeRunningTask()
        writeRaw("\n")
        boot_exit(70)
    }

    /// " (in task 'NAME')", when a task runs.
    static func writeRunningTask() {
        guard let name = Scheduler.runningName else { return }
        writeRaw(" (in task '")
        writeRaw(name)
        writeRaw("')")
    }

    /// Finds the node at `path` and reads its first register window, or stops
    /// with a message naming the node.
    public static func registerBase(_ tree: DeviceTree, _ path: StaticString) -> UInt {
        guard let node = tree.node(at: path) else { fatal("device tree has no node ", path) }
        guard let reg = node.register() else { fatal("device tree has no valid reg in ", path) }
        return UInt(truncatingIfNeeded: reg.address)
    }

    /// The boot-time key `name` from the command line, or `value` when it is
    /// not given; stops with a message when the text does not parse.
    public static func bootKey<Value: BootKeyValue>(_ arguments: BootArguments, _ name: StaticString, default value: Value) -> Value {
        guard let bytes = arguments.value(for: name) else { return value }
        guard let parsed = Value(bootArgument: bytes) else {
            writeRaw("FATAL: boot-time key has an invalid value: --")
            writeRaw(name)
            writeRaw("=")
            for byte in bytes { bootConsoleWriteByte(byte) }
            writeRaw("\n")
            boot_exit(70)
        }
        return parsed
    }

    /// A `u32` property of the node at `path`, or `fallback`.
    public static func cell(_ tree: DeviceTree, _ path: StaticString, _ property: StaticString, default fallback: UInt32) -> UInt32 {
        tree.node(at: path)?.property(property)?.cells.first ?? fallback
    }
}

/// Stops, naming every node that is missing or is not the hardware its
/// driver binds to, before any driver touches it: a device tree from a
/// boot loader can differ from the one mirage-config made. The glue calls
/// `require` for each device, then `finish`.
public struct HardwareCheck {
    let tree: DeviceTree
    var missing = 0

    public init(_ tree: DeviceTree) { self.tree = tree }

    /// Notes (and names) the node at `path` unless it is `compatible`; `user`
    /// says which device and driver need it.
    public mutating func require(_ path: StaticString, _ compatible: StaticString, _ user: StaticString) {
        let node = tree.node(at: path)
        let fits = node?.property("compatible").map { DeviceTree.list($0.bytes, contains: compatible) } ?? false
        guard !fits else { return }
        if missing == 0 { writeRaw("FATAL: the device tree lacks hardware this image needs:\n") }
        missing += 1
        writeRaw("  ")
        writeRaw(path)
        writeRaw(node == nil ? " is missing" : " is not ")
        if node != nil { writeRaw(compatible) }
        writeRaw(" (")
        writeRaw(user)
        writeRaw(")\n")
    }

    /// Ends the unikernel with status 70 if anything was missing.
    public func finish() {
        guard missing > 0 else { return }
        writeRaw("  boot with the device tree mirage-config made for this image (dist/NAME.dtb, or _build/board.dtb)\n")
        boot_exit(70)
    }
}

/// A 32-bit memory-mapped register block at a base address.
public struct MMIO {
    public let base: UInt
    public init(base: UInt) { self.base = base }

    public func read(_ offset: UInt) -> UInt32 {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: base + offset).load()
    }

    public func write(_ offset: UInt, _ value: UInt32) {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: base + offset).store(value)
    }
}

/// Ends the unikernel through semihosting; on hardware without a debugger, halts.
func boot_exit(_ status: Int32) -> Never {
    boot_exit_c(status)
    while true { boot_cpu_relax() }
}

/// One copy, called everywhere: inlined, each call would also retain and
/// release the closure's context.
@_cdecl("boot_console_write_byte")
@inline(never)
func bootConsoleWriteByte(_ byte: UInt8) {
    Runtime.consoleWriter?(byte)
}

// C and assembly in Start/.
@_extern(c) func boot_exit_c(_ status: Int32)
@_extern(c) func boot_cpu_relax()
@_extern(c) func boot_in_ram(_ address: UInt, _ size: UInt) -> Int32
@_extern(c) func boot_reserved_dtb_address() -> Int
@_extern(c) func boot_cntfrq() -> UInt32
@_extern(c) func boot_cntpct() -> UInt64
@_extern(c) func boot_dfar() -> UInt32
@_extern(c) func boot_dfsr() -> UInt32
@_extern(c) func boot_ifar() -> UInt32
@_extern(c) func boot_memory_barrier()
@_extern(c) func boot_cycles() -> UInt32
@_extern(c) func boot_instructions() -> UInt32
@_extern(c) func boot_stack_guard(_ address: UInt32) -> Int32

extension StaticString {
    /// The text as a String (Embedded Swift has no String(describing:)).
    public var text: String {
        withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
    }
}
