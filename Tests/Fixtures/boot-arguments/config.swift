import MirageConfig

// Prints a boot-time key's bytes in hex, so that a test can check a value
// arrives byte for byte whatever path the boot took (direct, U-Boot over
// TFTP, an SD card through SPL and U-Boot).
let value = Key.boot("value", doc: "Any text; printed back as the hex of its UTF-8", default: "plain")
let main = Job("Echoed", needs: .console, keys: [value])

register("boot-arguments", main(defaultConsole))
