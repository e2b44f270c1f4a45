/// The runtime drivers in Sources/Boot/Drivers: the Swift type the glue
/// code constructs and the files an image that uses it compiles. An image
/// compiles only the drivers its configuration chose.
public struct Driver {
    public let name: String
    public let swiftType: String
    public let files: [String]
}

public enum DriverCatalog {
    public static let drivers: [Driver] = [
        Driver(name: "pl011", swiftType: "PL011", files: ["Drivers/PL011.swift"]),
        Driver(name: "ns16550", swiftType: "NS16550", files: ["Drivers/NS16550.swift"]),
        Driver(name: "generic-timer", swiftType: "GenericTimer", files: ["Drivers/GenericTimer.swift"]),
        Driver(name: "sp804", swiftType: "SP804", files: ["Drivers/SP804.swift"]),
        Driver(name: "sunxi-timer", swiftType: "SunxiTimer", files: ["Drivers/SunxiTimer.swift"]),
    ]

    public static func driver(_ name: String) throws -> Driver {
        guard let driver = drivers.first(where: { $0.name == name }) else {
            throw MirageError("no runtime driver '\(name)'", fix: "known drivers: \(drivers.map(\.name).joined(separator: ", "))")
        }
        return driver
    }
}
