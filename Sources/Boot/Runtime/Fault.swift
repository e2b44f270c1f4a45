/// CPU exceptions. start.S saves {spsr, r0-r12, pc} on the exception mode's
/// stack and calls boot_fault; the report is printed on the console and the
/// unikernel ends with a non-zero status, so a boot test sees the fault.
///
/// The report avoids the heap: a fault may come from a corrupt heap.

let faultNames: [StaticString] = [
    "reset", "undefined instruction", "supervisor call", "prefetch abort",
    "data abort", "reserved vector", "unexpected IRQ", "unexpected FIQ",
]

/// Marker that boot tests treat as a failure wherever it appears.
let faultMarker: StaticString = "*** FAULT: "

@inline(never)
func writeRaw(_ text: StaticString) {
    text.withUTF8Buffer { for byte in $0 { bootConsoleWriteByte(byte) } }
}

@inline(never)
func writeHex(_ value: UInt32) {
    writeRaw("0x")
    for shift in stride(from: 28, through: 0, by: -4) {
        let digit = UInt8((value >> UInt32(shift)) & 0xF)
        bootConsoleWriteByte(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
    }
}

/// The stacks whose guard pages boot_stack_guard names, in its order.
let stackNames: [StaticString] = ["FIQ", "IRQ", "abort", "undefined", "supervisor"]

@inline(never)
func writeDecimal(_ value: UInt64) {
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var rest = value
    withUnsafeMutableBytes(of: &digits) { buffer in
        repeat {
            buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            count += 1
        } while rest > 0
        while count > 0 {
            count -= 1
            bootConsoleWriteByte(buffer[count])
        }
    }
}

@_cdecl("boot_fault")
func bootFault(_ kind: Int32, _ frame: UnsafePointer<UInt32>) -> Never {
    writeRaw("\n")
    writeRaw(faultMarker)
    // A data abort in a stack's guard page is that stack overflowing.
    let overflowed = kind == 4 ? Int(boot_stack_guard(boot_dfar())) : -1
    if overflowed >= 0 && overflowed < stackNames.count {
        writeRaw("stack overflow: the ")
        writeRaw(stackNames[overflowed])
        writeRaw(" stack ran into its guard page (a data abort)")
    } else if kind == 1 && isSwiftTrap(at: UInt(frame[14])) {
        // What Swift compiles a failed check to; with --assert-config debug its message is printed above.
        writeRaw("Swift trap (an arithmetic overflow, a failed precondition or fatalError; an undefined instruction)")
    } else {
        writeRaw(kind >= 0 && Int(kind) < faultNames.count ? faultNames[Int(kind)] : "unknown exception")
    }
    writeRaw(" at pc ")
    writeHex(frame[14])
    if kind == 4 {
        writeRaw(", address ")
        writeHex(boot_dfar())
        writeRaw(", status ")
        writeHex(boot_dfsr())
    } else if kind == 3 {
        writeRaw(", address ")
        writeHex(boot_ifar())
    }
    writeRaw("\n  cpsr ")
    writeHex(frame[0])
    for register in 0..<13 {
        writeRaw(register % 4 == 0 ? "\n  " : "  ")
        writeRaw("r")
        if register >= 10 { bootConsoleWriteByte(UInt8(ascii: "1")) }
        bootConsoleWriteByte(UInt8(ascii: "0") + UInt8(register % 10))
        writeRaw(register < 10 ? "  " : " ")
        writeHex(frame[1 + register])
    }
    writeRaw("\n")
    boot_exit(64 + kind)
}

/// Whether the instruction at `pc` is LLVM's trap on ARM (`udf #0xfdee`).
func isSwiftTrap(at pc: UInt) -> Bool {
    guard boot_in_ram(pc, 4) != 0 else { return false }
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
