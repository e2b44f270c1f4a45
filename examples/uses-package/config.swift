import MirageConfig
import Watchdog // package: ../packages/watchdog

// A unikernel that uses a device type from a package outside the tool: the
// package adds `DeviceType.watchdog` and `softwareWatchdog()` to the DSL and
// the driver to the image; mirage-config itself knows nothing of them.
let main = Job("Guarded", needs: .console, .clock, .watchdog)

register("uses-package", main(defaultConsole, defaultClock, softwareWatchdog()))
