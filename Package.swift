// swift-tools-version:5.9
import PackageDescription

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

        // Configuration loading, resolution, boards, emitters, build and run.
        .target(
            name: "MirageEngine",
            dependencies: ["MirageConfig", "CFdt", "CElf", "Yams"]
        ),

        // The command-line tool, thin over the engine.
        .executableTarget(
            name: "mirage-config",
            dependencies: [
                "MirageEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The part of the unikernel runtime that is not ARM-specific, built for
        // the host too so it is unit tested. `mirage-config build` cross-compiles
        // it unchanged together with Runtime/, Drivers/ and Start/.
        .target(name: "BootCore", path: "Sources/Boot/Core"),

        // System libraries: libfdt-dev and libelf-dev.
        .systemLibrary(name: "CFdt", path: "Sources/CFdt"),
        .systemLibrary(name: "CElf", path: "Sources/CElf", pkgConfig: "libelf"),

        .testTarget(name: "BootCoreTests", dependencies: ["BootCore"]),
        .testTarget(name: "MirageEngineTests", dependencies: ["MirageEngine", "MirageConfig"]),
    ]
)
