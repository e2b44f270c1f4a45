import Foundation

/// How qemu-system-arm emulates a board: qemu/NAME.yaml.
public struct QemuProfile: Codable {
    public let machine: String
    public let cpu: String?
    public let memory: String
    /// Further arguments for this machine.
    public let arguments: [String]
    /// Whether this machine's firmware puts a fresh `/chosen/rng-seed` in the
    /// device tree at every boot (QEMU virt does); `run` then does the same.
    public let rngSeed: Bool?
    /// The U-Boot that `run --boot-loader u-boot` starts as this machine's
    /// firmware (-bios), if there is one for it.
    public let uBoot: String?
    /// The network card U-Boot fetches the image through over qemu's TFTP
    /// (the backend's id is `boot`), added after the unikernel's own devices.
    public let uBootNetwork: [String]?
    /// Whether QEMU emulates this machine's boot ROM, so that it boots from
    /// an SD card image as the real board does (`run --boot-loader sd-card`).
    public let bootsFromSDCard: Bool?

    enum CodingKeys: String, CodingKey {
        case machine, cpu, memory, arguments
        case rngSeed = "rng-seed"
        case uBoot = "u-boot"
        case uBootNetwork = "u-boot-network"
        case bootsFromSDCard = "boots-from-sd-card"
    }

    public static func load(_ name: String, from installation: Installation) throws -> QemuProfile {
        let file = installation.qemuDirectory.appendingPathComponent("\(name).yaml")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw MirageError("no qemu profile qemu/\(name).yaml", fix: "add it, or set `qemu:` in targets/BOARD.yaml to an existing profile")
        }
        return try decodeYAML(QemuProfile.self, from: file)
    }

    public static let installHint = "install qemu: apt-get install qemu-system-arm (Debian/Ubuntu)"
}

/// What every boot test checks: qemu/boot-test.yaml.
public struct HarnessDefaults: Codable {
    public let timeout: Double
    public let faultMarkers: [String]

    enum CodingKeys: String, CodingKey {
        case timeout
        case faultMarkers = "fault-markers"
    }

    public static func load(from installation: Installation) throws -> HarnessDefaults {
        try decodeYAML(HarnessDefaults.self, from: installation.qemuDirectory.appendingPathComponent("boot-test.yaml"))
    }
}
