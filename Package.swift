// swift-tools-version:5.9
import Foundation
import PackageDescription

// Each folder in Sources/Boot/Drivers (hardware) and Sources/Boot/Libraries
// (protocols, stores, crypto) holds a driver.yaml beside its sources (and a
// store's host tool); the host build of the runtime leaves out everything
// but the Swift and C. Read from the folders, so adding a driver never means
// editing this file.
let driverDescriptors: [String] = ["Drivers", "Libraries"].flatMap { parent -> [String] in
    let base = Context.packageDirectory + "/Sources/Boot/" + parent
    let folders = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
    return folders.sorted().flatMap { folder -> [String] in
        let files = (try? FileManager.default.contentsOfDirectory(atPath: base + "/" + folder)) ?? []
        return files.sorted().filter { !$0.hasSuffix(".swift") && !$0.hasSuffix(".c") && !$0.hasSuffix(".h") }
            .map { "\(parent)/\(folder)/\($0)" }
    }
}

let package = Package(
    name: "mirage-config",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mirage-config", targets: ["mirage-config"]),
        .library(name: "MirageConfig", targets: ["MirageConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // The DSL a unikernel's config.swift imports (like PackageDescription).
        .target(name: "MirageConfig"),

        // Configuration loading, resolution, boards, drivers, emitters, build
        // and run. It reads config.swift's graph as JSON into its own model,
        // so it does not link the DSL.
        .target(
            name: "MirageEngine",
            dependencies: ["CFdt", "CElf", "Yams"]
        ),

        // The command-line tool, thin over the engine.
        .executableTarget(
            name: "mirage-config",
            dependencies: [
                "MirageEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The unikernel runtime's Swift (Core, Runtime, every driver), built
        // for the host too, so that its logic is unit tested and editors see
        // it. `mirage-config build` cross-compiles the same files for ARM,
        // with Start/ and only the drivers the configuration chose.
        .target(
            name: "Boot",
            dependencies: ["BootHostStubs"],
            exclude: ["Start"] + driverDescriptors,
            swiftSettings: [.enableExperimentalFeature("Extern"), .enableExperimentalFeature("Volatile")]
        ),
        // Host stand-ins for the C and assembly the runtime calls on ARM.
        .target(name: "BootHostStubs"),

        // System libraries: libfdt-dev and libelf-dev.
        .systemLibrary(name: "CFdt", path: "Sources/CFdt"),
        .systemLibrary(name: "CElf", path: "Sources/CElf", pkgConfig: "libelf"),

        .testTarget(name: "BootTests", dependencies: ["Boot"]),
        // Boot too: the runtime's boot-argument parser is checked against the tool's quoting.
        .testTarget(name: "MirageEngineTests", dependencies: ["MirageEngine", "MirageConfig", "Boot"]),
    ]
)
