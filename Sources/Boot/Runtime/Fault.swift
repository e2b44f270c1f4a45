/// CPU exceptions. start.S saves {spsr, r0-r12, pc} on the exception mode's
/// stack and calls boot_fault; the report is printed on the console and the
/// unikernel ends with a non-zero status, so a boot test sees the fault.
///
/// The report avoids the heap: a fault may come from a corrupt heap.

/// The exception start.S numbered `kind` (a switch: an array would be a
/// heap object built at first use).
func faultName(_ kind: Int32) -> StaticString {
    switch kind {
    case 0: return "reset"
    case 1: return "undefined instruction"
    case 2: return "supervisor call"
    case 3: return "prefetch abort"
    case 4: return "data abort"
    case 5: return "reserved vector"
    case 6: return "unexpected IRQ"
    case 7: return "unexpected FIQ"
    default: return "unknown exception"
    }
}

/// Marker that boot tests treat as a failure wherever it appears.
let faultMarker: StaticString = "*** FAULT: "

@inline(never)
func writeRaw(_ text: StaticString) {
    // Over utf8Start, not withUTF8Buffer, whose checks would carry the
    // stdlib's messages into every image built with debug asserts.
    let start = text.utf8Start, count = text.utf8CodeUnitCount
    var index = 0
    while index < count {
        bootConsoleWriteByte(start[index])
        index &+= 1
    }
}

@inline(never)
func writeHex(_ value: UInt32) {
    writeRaw("0x")
    for shift in stride(from: 28, through: 0, by: -4) {
        let digit = UInt8((value >> UInt32(shift)) & 0xF)
        bootConsoleWriteByte(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
    }
}

/// The stack whose guard page boot_stack_guard numbered `mode`, if any.
func stackName(_ mode: Int32) -> StaticString? {
    switch mode {
    case 0: return "FIQ"
    case 1: return "IRQ"
    case 2: return "abort"
    case 3: return "undefined"
    case 4: return "supervisor"
    default: return nil
    }
}

@inline(never)
func writeDecimal(_ value: UInt64) {
    forEachDecimalDigit(of: value) { bootConsoleWriteByte($0) }
}

@_cdecl("boot_fault")
func bootFault(_ kind: Int32, _ frame: UnsafePointer<UInt32>) -> Never {
    writeRaw("\n")
    writeRaw(faultMarker)
    // start.S took 4 from lr, right for an undefined instruction in ARM
    // state; in Thumb state (CPSR.T) lr was only 2 past it.
    let thumb = frame[0] & 0x20 != 0
    let pc = kind == 1 && thumb ? frame[14] &+ 2 : frame[14]
    // A data abort in a stack's guard page is that stack overflowing.
    if kind == 4, let stack = stackName(boot_stack_guard(boot_dfar())) {
        writeRaw("stack overflow: the ")
        writeRaw(stack)
        writeRaw(" stack ran into its guard page (a data abort)")
    } else if kind == 4, let task = Scheduler.task(guarding: UInt(boot_dfar())) {
        writeRaw("stack overflow: the task '")
        writeRaw(task)
        writeRaw("' ran into its stack's guard page (a data abort; give it a larger stackSize in Tasks.spawn)")
    } else if kind == 1 && isSwiftTrap(at: UInt(pc), thumb: thumb) {
        // What Swift compiles a failed check to; with --assert-config debug its message is printed above.
        writeRaw("Swift trap (an arithmetic overflow, a failed precondition or fatalError)")
    } else {
        writeRaw(faultName(kind))
    }
    writeRaw(" at pc ")
    writeHex(pc)
    if kind == 4 {
        writeRaw(", address ")
        writeHex(boot_dfar())
        writeRaw(", status ")
        writeHex(boot_dfsr())
    } else if kind == 3 {
        writeRaw(", address ")
        writeHex(boot_ifar())
    }
    if let name = Scheduler.runningName {
        writeRaw("\n  in task '")
        writeRaw(name)
        writeRaw("'")
    }
    writeRaw("\n  cpsr ")
    writeHex(frame[0])
    for register in 0..<13 {
        writeRaw(register % 4 == 0 ? "\n  r" : "  r")
        writeDecimal(UInt64(register))
        writeRaw(register < 10 ? "  " : " ")
        writeHex(frame[1 + register])
    }
    writeRaw("\n")
    boot_exit(64 + kind)
}

/// Whether the instruction at `pc` is LLVM's trap: `udf #0xfdee` in ARM
/// state, `udf #0xfe` in Thumb.
func isSwiftTrap(at pc: UInt, thumb: Bool) -> Bool {
    guard boot_in_ram(pc, 4) != 0 else { return false }
    if thumb { return UnsafePointer<UInt16>(bitPattern: pc)?.pointee == 0xDEFE }
    return UnsafePointer<UInt32>(bitPattern: pc)?.pointee == 0xE7FF_DEFE
}

@_cdecl("boot_fault_message")
func bootFaultMessage(_ message: UnsafePointer<CChar>) -> Never {
    writeRaw("\n")
    writeRaw(faultMarker)
    var cursor = message
    while cursor.pointee != 0 {
        bootConsoleWriteByte(UInt8(bitPattern: cursor.pointee))
        cursor += 1
    }
    writeRaw("\n")
    boot_exit(71)
}
