// swift-tools-version:5.9
import Foundation
import PackageDescription

// Each device type has one home, Sources/Devices/TYPE, laid out as a device
// package is: DSL/ (compiled into MirageConfig), Runtime/ (the protocol the
// unikernel sees), Drivers/NAME/ (hardware) and Libraries/NAME/ (software),
// each with a driver.yaml beside its sources. Sources/Boot/Shared holds what
// several types use (the virtio-mmio transport, BLAKE2s). Read from the
// folders, so adding a device type or a driver never means editing this file.
let sources = Context.packageDirectory + "/Sources/"

/// The paths in `folder` (relative to Sources/; "" for Sources/ itself), in name order.
func children(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: sources + folder)) ?? []).sorted()
        .map { folder.isEmpty ? $0 : folder + "/" + $0 }
}
func exists(_ folder: String) -> Bool { FileManager.default.fileExists(atPath: sources + folder) }

let deviceTypes = children("Devices")
let dslFolders = ["MirageConfig"] + deviceTypes.map { $0 + "/DSL" }.filter(exists)
let driverFolders = children("Boot/Shared")
    + deviceTypes.flatMap { children($0 + "/Drivers") + children($0 + "/Libraries") }
let runtimeFolders = ["Boot/Core", "Boot/Runtime", "Boot/Tasks"] + deviceTypes.map { $0 + "/Runtime" }.filter(exists)
// Both targets are rooted at Sources/, so each excludes what is not its own:
// every path beside the folders it compiles, and in a driver's folder all
// but its Swift and C (the descriptor, a store's host tool).
func everythingBut(_ kept: [String], under folder: String = "") -> [String] {
    children(folder).flatMap { path -> [String] in
        if kept.contains(path) { return [] }
        if kept.contains(where: { $0.hasPrefix(path + "/") }) { return everythingBut(kept, under: path) }
        return [path]
    }
}
let driverDescriptors = driverFolders.flatMap { folder in
    children(folder).filter { !$0.hasSuffix(".swift") && !$0.hasSuffix(".c") && !$0.hasSuffix(".h") }
}
// A driver's or library's host-check/ (Swift, over the runtime built for the
// host) is a program `mirage-config` runs on the files a store carries
// (`file-check:` in its driver.yaml): mirage-check-NAME, built with the tool.
let hostChecks = driverFolders.filter { exists($0 + "/host-check") }

let package = Package(
    name: "mirage-config",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mirage-config", targets: ["mirage-config"]),
        .library(name: "MirageConfig", type: .dynamic, targets: ["MirageConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // Host side only: `mirage-config tls self-signed` makes development certificates with them.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // The DSL a unikernel's config.swift imports (like PackageDescription):
        // its core and each device type's DSL/.
        .target(name: "MirageConfig", path: "Sources", exclude: everythingBut(dslFolders), sources: dslFolders),

        // Configuration loading, resolution, boards, drivers, emitters, build
        // and run. It reads config.swift's graph as JSON into its own model,
        // so it does not link the DSL.
        .target(
            name: "MirageEngine",
            dependencies: ["CFdt", "CElf", "Yams", .product(name: "X509", package: "swift-certificates"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The command-line tool, thin over the engine.
        .executableTarget(
            name: "mirage-config",
            dependencies: [
                "MirageEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The unikernel runtime's Swift (Core, Tasks, Runtime, each device
        // type's protocol and every driver), built for the host too, so that
        // its logic is unit tested and editors see it. `mirage-config build`
        // cross-compiles the same files for ARM, with Start/ and only the
        // drivers the configuration chose. Optimized (-O) even in debug builds,
        // as on the board: the tests then run the code the images run, and
        // its crypto (X25519's field arithmetic on InlineArrays), stores and
        // TCP run the suite's sweeps several times faster (BootTests 65 s to 18 s).
        .target(
            name: "Boot",
            dependencies: ["BootHostStubs"],
            path: "Sources",
            exclude: everythingBut(runtimeFolders + driverFolders) + driverDescriptors,
            sources: runtimeFolders + driverFolders,
            swiftSettings: [.enableExperimentalFeature("Extern"), .enableExperimentalFeature("Volatile"), .unsafeFlags(["-O"])]
        ),
        // The host's counterpart of Start/ (what the runtime calls in C on
        // ARM), for the unit tests; the host target's programs add its main.c.
        .target(name: "BootHostStubs", path: "Sources/Boot/StartHost", exclude: ["main.c"]),

        // System libraries: libfdt-dev and libelf-dev.
        .systemLibrary(name: "CFdt", path: "Sources/CFdt"),
        .systemLibrary(name: "CElf", path: "Sources/CElf", pkgConfig: "libelf"),

        .testTarget(name: "BootTests", dependencies: ["Boot"]),
        // Boot too: the runtime's boot-argument parser is checked against the tool's quoting.
        .testTarget(name: "MirageEngineTests", dependencies: ["MirageEngine", "MirageConfig", "Boot"]),
    ] + hostChecks.map { folder in
        .executableTarget(name: "mirage-check-" + folder.split(separator: "/").last!, dependencies: ["Boot"],
                          path: "Sources/" + folder + "/host-check")
    }
)
