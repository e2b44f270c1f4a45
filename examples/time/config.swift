import MirageConfig

// The time of day: from the board's real-time clock (the PL031 on virt and
// vexpress-a9, the Allwinner RTC on the Cubieboard and the Orange Pi PC),
// which QEMU sets to the host's time or to `-rtc base=`; `--time` at boot
// overrides it:
//   mirage-config run -- --time=2030-01-01T00:00:00Z
let main = Job("TimeOfDay", needs: .console, .clock, .wallClock)

register("time", main(defaultConsole, defaultClock, defaultWallClock))
