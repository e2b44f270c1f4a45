import Foundation

/// The build as a Ninja file (`_build/build.ninja`), the way MirageOS 4
/// emits dune rules and Zephyr drives Ninja through CMake: Ninja runs only
/// what changed, and runs the C and assembly beside the one whole-module
/// swiftc step. The person still types one command: `mirage-config build`.
struct BuildPlan {
    struct Tools {
        let swiftc: URL, cc: URL, ld: URL
        /// Makes the raw image; a host program has none.
        let objcopy: URL?
    }

    /// What the link makes.
    enum Output {
        /// A board image, linked with the generated script at the board's
        /// addresses, and its raw bytes for boot loaders (`rawImage`).
        case image(linkerScript: URL, rawImage: URL, map: URL)
        /// A host program (`--target host`), linked as any program is, with
        /// the device tree it boots with (`deviceTree`, .incbin'd by `deviceTreeAssembly`).
        case program(deviceTree: URL, deviceTreeAssembly: URL)
    }

    let tools: Tools
    /// The flags of every Swift compile, the module's name apart.
    let swiftFlags: [String]
    /// The Swift of the job's module: the glue and the unikernel's sources,
    /// with the runtime and the drivers too when `runtimeSources` is empty.
    let swiftSources: [URL]
    /// The runtime and the drivers, when they are a module of their own
    /// (a board image not built `--whole-image`), compiled into the tool's
    /// cache before Ninja runs: `runtimeModule`.
    let runtimeSources: [URL]
    var runtimeModule: RuntimeModule?
    let cFlags: [String]
    let asmFlags: [String]
    /// C and assembly sources, each compiled to its own object.
    var nativeSources: [URL]
    /// Archives the embedded-data assembly (one of `nativeSources`) `.incbin`s.
    var embeddedArchives: [URL] = []
    let linkFlags: [String]
    let libraries: [String]
    let output: Output
    let manifest: URL
    let manifestNote: URL
    let objects: URL
    let image: URL
    /// Where ninja runs, and the unikernel's folder: paths inside it are
    /// written relative to the build folder (ninja cannot hold every byte a
    /// folder's name may have, such as a newline).
    let buildDirectory: URL
    let unikernelDirectory: URL

    var swiftObject: URL { objects.appendingPathComponent("unikernel.o") }

    /// A host program's Swift is compiled file by file, incrementally
    /// (swiftc's own dependency tracking, through `swiftOutputMap`): after an
    /// edit of the job, only its files are compiled again. A board image is
    /// one whole-module compile, optimised with the image.
    var compilesIncrementally: Bool {
        if case .program = output { return true }
        return false
    }
    var swiftOutputMap: URL { objects.appendingPathComponent("swift-outputs.json") }
    var swiftStamp: URL { objects.appendingPathComponent("swift.stamp") }

    /// Each Swift file's object in an incremental build, by its place in `swiftSources`.
    var swiftObjects: [URL] {
        swiftSources.enumerated().map { index, source in
            objects.appendingPathComponent("swift/\(index)-\(source.deletingPathExtension().lastPathComponent).o")
        }
    }

    /// swiftc's output file map for the incremental build: each source (as
    /// the command line names it) to its object and dependency record.
    var swiftOutputMapText: String {
        var entries = ["  \"\": {\"swift-dependencies\": \(jsonString(local(objects.appendingPathComponent("swift/module.swiftdeps"))))}"]
        for (source, object) in zip(swiftSources, swiftObjects) {
            let deps = object.deletingPathExtension().appendingPathExtension("swiftdeps")
            entries.append("  \(jsonString(local(source))): {\"object\": \(jsonString(local(object))), \"swift-dependencies\": \(jsonString(local(deps)))}")
        }
        return "{\n" + entries.joined(separator: ",\n") + "\n}\n"
    }

    func jsonString(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
    var noteObject: URL { objects.appendingPathComponent("manifest-note.o") }
    var deviceTreeObject: URL { objects.appendingPathComponent("device-tree.o") }

    /// Each native source's object: its folder and name, so that two files
    /// of one name in different drivers do not collide.
    func object(for source: URL) -> URL {
        let folder = source.deletingLastPathComponent().lastPathComponent
        return objects.appendingPathComponent("\(folder)-\(source.lastPathComponent).o")
    }

    var text: String {
        let swiftc = command([tools.swiftc.path] + swiftFlags + ["-module-name", "Unikernel"] + (runtimeModule?.importFlags ?? []))
        let swiftRule = compilesIncrementally
            ? "  command = \(swiftc) -c -incremental -output-file-map \(command([local(swiftOutputMap)])) $in && touch $out"
            : "  command = \(swiftc) -c -o $out $in"
        var lines = [
            "# The build of one unikernel image. Generated by mirage-config build; build rewrites it.",
            "ninja_required_version = 1.5",
            "",
            "rule swiftc",
            swiftRule,
            "  description = swiftc  \(swiftSources.count) files (the unikernel and its glue\(runtimeModule == nil ? ", runtime and drivers" : ""))",
            "rule cc",
            "  command = \(command([tools.cc.path] + cFlags)) -c $in -o $out",
            "  description = cc      $in",
            "rule as",
            "  command = \(command([tools.cc.path] + asmFlags)) -c $in -o $out",
            "  description = as      $in",
        ]
        switch output {
        case .image(let linkerScript, _, let map):
            lines += [
                "rule ld",
                "  command = \(command([tools.ld.path] + linkFlags + ["-T", local(linkerScript), "-Map", local(map)])) -o $out $in \(command(libraries))",
                "  description = ld      $out",
                "rule objcopy",
                "  command = \(command([tools.objcopy?.path ?? "objcopy", "-O", "binary"])) $in $out",
                "  description = objcopy $out",
            ]
        case .program:
            lines += [
                "rule ld",
                "  command = \(command([tools.ld.path] + linkFlags)) -o $out $in \(command(libraries))",
                "  description = link    $out",
            ]
        }
        if compilesIncrementally {
            lines += ["", "build \(path(swiftStamp)) | \(swiftObjects.map(path).joined(separator: " ")): swiftc \(swiftSources.map(path).joined(separator: " ")) | \(path(swiftOutputMap))"]
        } else {
            let runtime = runtimeModule.map { " | " + path($0.module) } ?? ""
            lines += ["", "build \(path(swiftObject)): swiftc \(swiftSources.map(path).joined(separator: " "))\(runtime)"]
        }
        var linkInputs: [URL] = []
        for source in nativeSources {
            let object = object(for: source)
            // The embedded data's assembly .incbin's the archives: a changed archive reassembles it.
            let implicit = source.lastPathComponent == EmbeddedData.assemblyName && !embeddedArchives.isEmpty
                ? " | " + embeddedArchives.map(path).joined(separator: " ") : ""
            lines.append("build \(path(object)): \(source.pathExtension == "S" ? "as" : "cc") \(path(source))\(implicit)")
            linkInputs.append(object)
        }
        linkInputs += (compilesIncrementally ? swiftObjects : [swiftObject]) + (runtimeModule.map { [$0.object] } ?? []) + [noteObject]
        // The note's assembly .incbin's the manifest: a changed manifest reassembles it.
        lines.append("build \(path(noteObject)): as \(path(manifestNote)) | \(path(manifest))")
        let libraryFiles = libraries.filter { !$0.hasPrefix("-l") }.map { path(URL(fileURLWithPath: $0)) }
        switch output {
        case .image(let linkerScript, let rawImage, _):
            lines.append("build \(path(image)): ld \(linkInputs.map(path).joined(separator: " ")) | \(([path(linkerScript)] + libraryFiles).joined(separator: " "))")
            lines.append("build \(path(rawImage)): objcopy \(path(image))")
            lines.append("default \(path(rawImage))")
        case .program(let deviceTree, let deviceTreeAssembly):
            lines.append("build \(path(deviceTreeObject)): as \(path(deviceTreeAssembly)) | \(path(deviceTree))")
            linkInputs.append(deviceTreeObject)
            lines.append("build \(path(image)): ld \(linkInputs.map(path).joined(separator: " "))" + (libraryFiles.isEmpty ? "" : " | " + libraryFiles.joined(separator: " ")))
            lines.append("default \(path(image))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `url` relative to the build folder when it lies in the unikernel's folder.
    func local(_ url: URL) -> String { MirageEngine.path(of: url, from: buildDirectory, within: unikernelDirectory) }

    /// A path in a build line: Ninja's escapes for `$`, space and `:`.
    func path(_ url: URL) -> String {
        local(url).replacingOccurrences(of: "$", with: "$$").replacingOccurrences(of: " ", with: "$ ")
            .replacingOccurrences(of: ":", with: "$:")
    }

    /// Words for a rule's command: quoted for the shell Ninja runs it with, `$` escaped for Ninja.
    func command(_ words: [String]) -> String {
        words.map { shellQuoted($0).replacingOccurrences(of: "$", with: "$$") }.joined(separator: " ")
    }
}
