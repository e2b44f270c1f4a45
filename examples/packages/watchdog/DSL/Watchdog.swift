// The DSL part of the package: compiled against MirageConfig into a module
// that config.swift imports. It declares a device type and a constructor,
// exactly as the tool's own devices are declared.
import MirageConfig

extension DeviceType {
    /// A watchdog: it expires unless the job feeds it in time.
    public static let watchdog = DeviceType("watchdog")
}

/// How long the job may go without feeding the watchdog, read at boot.
public let watchdogTimeout = Key.boot("watchdog-timeout", doc: "Milliseconds without a feed before the watchdog expires",
                                      default: 500)

/// A watchdog kept in software, timed by `clock` (the board's by default).
public func softwareWatchdog(clock: Device = defaultClock, name: String = "watchdog",
                             file: String = #filePath, line: Int = #line) -> Device {
    Device(.watchdog, name: name, implementation: .driver("software-watchdog"), arguments: [clock],
           keys: [watchdogTimeout.declaration], location: SourceLocation(file: file, line: line))
}
