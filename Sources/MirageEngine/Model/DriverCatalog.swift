/// The runtime drivers in Sources/Boot: the Swift type the glue code
/// constructs, the files an image that uses it compiles, and whether it
/// drives a board peripheral. An image compiles only the drivers its
/// configuration chose.
public struct Driver {
    public let name: String
    public let swiftType: String
    /// Paths under Sources/Boot.
    public let files: [String]
    /// Drives one peripheral of the board (a UART, a timer), rather than
    /// being software over other devices (the entropy pool).
    public let drivesPeripheral: Bool
    /// The glue lines that bring the device up, when a plain
    /// `let NAME = TYPE(tree: tree, path: PATH)` is not enough.
    let construct: ((ResolvedDevice) -> [String])?

    init(_ name: String, swiftType: String, files: [String], drivesPeripheral: Bool = true,
         construct: ((ResolvedDevice) -> [String])? = nil) {
        self.name = name
        self.swiftType = swiftType
        self.files = files
        self.drivesPeripheral = drivesPeripheral
        self.construct = construct
    }

    /// The glue lines for `device`.
    public func glue(for device: ResolvedDevice) -> [String] {
        if let construct { return construct(device) }
        return ["let \(device.name) = \(swiftType)(tree: tree, path: \"\(device.path ?? "")\")"]
    }
}

public enum DriverCatalog {
    public static let drivers: [Driver] = [
        Driver("pl011", swiftType: "PL011", files: ["Drivers/PL011.swift"]),
        Driver("ns16550", swiftType: "NS16550", files: ["Drivers/NS16550.swift"]),
        Driver("generic-timer", swiftType: "GenericTimer", files: ["Drivers/GenericTimer.swift"]),
        Driver("sp804", swiftType: "SP804", files: ["Drivers/SP804.swift"]),
        Driver("sunxi-timer", swiftType: "SunxiTimer", files: ["Drivers/SunxiTimer.swift"]),
        Driver("virtio-rng", swiftType: "VirtioRNG", files: ["Drivers/Virtio.swift", "Drivers/VirtioRNG.swift"]),
        Driver("entropy-pool", swiftType: "Entropy",
               files: ["Core/Random/BLAKE2s.swift", "Core/Random/ChaCha20.swift", "Core/Random/JitterEstimate.swift",
                       "Core/Random/RandomGenerator.swift", "Entropy/Entropy.swift", "Entropy/Sources.swift"],
               drivesPeripheral: false, construct: entropyGlue),
    ]

    public static func driver(_ name: String) throws -> Driver {
        guard let driver = drivers.first(where: { $0.name == name }) else {
            throw MirageError("no runtime driver '\(name)'", fix: "known drivers: \(drivers.map(\.name).joined(separator: ", "))")
        }
        return driver
    }

    /// Gathers from each source, then applies the policy: the job starts only after this.
    static func entropyGlue(_ device: ResolvedDevice) -> [String] {
        let clock = device.arguments.first ?? "clock"
        var lines = ["let \(device.name) = Entropy(clock: \(clock), policy: Keys.entropyPolicy)"]
        for hardware in device.hardware where hardware.driver == "virtio-rng" {
            lines.append("\(device.name).gather(from: VirtioRNG(tree: tree, path: \"\(hardware.path)\"))")
        }
        let sources = (device.parameters["sources"] ?? "").split(separator: ",").map(String.init)
        if sources.contains("rng-seed") { lines.append("\(device.name).gather(from: DeviceTreeSeed(tree: tree))") }
        if sources.contains("jitter") {
            lines.append("if Keys.entropyJitter { \(device.name).gather(from: JitterSource(clock: \(clock))) }")
        }
        lines.append("\(device.name).finishSeeding()")
        return lines
    }
}
