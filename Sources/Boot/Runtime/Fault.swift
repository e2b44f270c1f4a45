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

@_cdecl("boot_fault")
func bootFault(_ kind: Int32, _ frame: UnsafePointer<UInt32>) -> Never {
    writeRaw("\r\n")
    writeRaw(faultMarker)
    writeRaw(kind >= 0 && Int(kind) < faultNames.count ? faultNames[Int(kind)] : "unknown exception")
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
    writeRaw("\r\n  cpsr ")
    writeHex(frame[0])
    for register in 0..<13 {
        writeRaw(register % 4 == 0 ? "\r\n  " : "  ")
        writeRaw("r")
        if register >= 10 { bootConsoleWriteByte(UInt8(ascii: "1")) }
        bootConsoleWriteByte(UInt8(ascii: "0") + UInt8(register % 10))
        writeRaw(register < 10 ? "  " : " ")
        writeHex(frame[1 + register])
    }
    writeRaw("\r\n")
    boot_exit(64 + kind)
}

@_cdecl("boot_fault_message")
func bootFaultMessage(_ message: UnsafePointer<CChar>) -> Never {
    writeRaw("\r\n")
    writeRaw(faultMarker)
    var cursor = message
    while cursor.pointee != 0 {
        bootConsoleWriteByte(UInt8(bitPattern: cursor.pointee))
        cursor += 1
    }
    writeRaw("\r\n")
    boot_exit(71)
}
