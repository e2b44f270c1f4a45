import ArgumentParser
import Foundation
import MirageEngine

/// Key-value store images on the host: what a unikernel reads, made and
/// read back by each store driver's host tool, over programs this project
/// did not write (GNU tar, littlefs-python).
struct KV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Make, read and change the disk images of key-value stores (tar, littlefs).",
        subcommands: [Pack.self, List.self, Get.self, Put.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the keys under KEY (the top by default); dictionaries end in /.")
        @Argument(help: "The disk image.") var disk: String
        @Argument(help: "A dictionary.") var key: String = ""
        func run() throws {
            do { print(try StoreImage(URL(fileURLWithPath: disk), installation: try Installation.locate()).list(key), terminator: "") } catch { fail(error) }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the value at KEY to standard output.")
        @Argument(help: "The disk image.") var disk: String
        @Argument(help: "The key.") var key: String
        func run() throws {
            do { Output.write(try StoreImage(URL(fileURLWithPath: disk), installation: try Installation.locate()).get(key)) } catch { fail(error) }
        }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set KEY to FILE's contents in a littlefs image (making the dictionaries above it).")
        @Argument(help: "The disk image.") var disk: String
        @Argument(help: "The key.") var key: String
        @Argument(help: "The file whose bytes become the value.") var file: String
        func run() throws {
            do {
                try StoreImage(URL(fileURLWithPath: disk), installation: try Installation.locate()).put(key, from: URL(fileURLWithPath: file))
            } catch { fail(error) }
        }
    }

    struct Pack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pack a folder into a new disk image of a store: kv-tar (a ustar archive, as GNU tar makes it, for tarStore(on:)) or kv-littlefs (for littlefsStore(on:)); or a git commit's files (--git, for gitStore(on:)).",
            discussion: """
            The store's driver packs it with its host tool (kv-tar: GNU tar, in name order, dates and owners \
            zeroed; kv-littlefs: littlefs-python; kv-git: git pack-objects), so the image is a function of the \
            files alone. Attach it with run --disk NAME=FILE, or name it in config.swift's disk(NAME, image: FILE).
            """
        )

        @Argument(help: "The folder whose files become the store's keys.")
        var folder: String?

        @Option(help: ArgumentHelp("A git repository and the branch, tag or commit whose files to pack (HEAD by default), for gitStore(on:).", valueName: "repo[@ref]"))
        var git: String?

        @Option(name: .shortAndLong, help: "The image to write.")
        var output: String

        @Option(help: "The store whose image to make: a driver with a host tool (kv-tar, kv-littlefs).")
        var store = "kv-tar"

        func run() throws {
            do {
                let installation = try Installation.locate()
                let catalog = try DriverCatalog(installation: installation)
                if let git {
                    guard folder == nil else { throw MirageError("give a folder or --git, not both", fix: "kv pack DIR -o FILE, or kv pack --git REPO[@REF] -o FILE") }
                    guard store == "kv-tar" || store == "kv-git" else { throw MirageError("--git makes a kv-git image, not \(store)", fix: "leave out --store") }
                    let (repository, ref) = Pack.repositoryAndRef(git)
                    try write { staging in
                        try catalog.driver("kv-git").packGit(repository, ref: ref, into: staging, installation: installation)
                        try FileChecks.run(commit: ref, of: repository, drivers: catalog.drivers, installation: installation)
                    }
                    return
                }
                guard let folder else { throw ValidationError("Missing expected argument '<folder>' (or --git REPO[@REF])") }
                let driver = try catalog.driver(store)
                guard driver.hostTool != nil else {
                    let stores = catalog.drivers.filter { $0.hostTool != nil }.map(\.name)
                    throw MirageError("the driver \(store) makes no disk images", fix: "--store is one of: \(stores.joined(separator: ", "))")
                }
                let source = URL(fileURLWithPath: folder)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw MirageError("\(folder) is not a folder", fix: "name the folder to pack")
                }
                try write { staging in
                    try driver.pack(source, into: staging, installation: installation)
                    try FileChecks.run(in: source, shownAs: folder, drivers: catalog.drivers, installation: installation)
                }
            } catch {
                fail(error)
            }
        }

        /// Writes the image beside the target and renames it: a failure (of the
        /// store's host tool, or a library's file check after it) leaves the old image whole.
        func write(_ pack: (URL) throws -> Void) throws {
            let target = URL(fileURLWithPath: output)
            try requireWritableFile(target, "the image")
            let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).new")
            defer { try? FileManager.default.removeItem(at: staging) }
            try pack(staging)
            guard rename(staging.path, target.path) == 0 else {
                throw MirageError("cannot write \(output): \(String(cString: strerror(errno)))")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
            print("\(displayPath(target.path))  \(size) bytes, \(git == nil ? store : "kv-git")")
        }

        /// "REPO@REF" as its two parts; a whole that names a folder is a repository (its HEAD).
        static func repositoryAndRef(_ text: String) -> (URL, String) {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: text, isDirectory: &isFolder), isFolder.boolValue {
                return (URL(fileURLWithPath: text), "HEAD")
            }
            guard let at = text.lastIndex(of: "@"), at != text.startIndex else { return (URL(fileURLWithPath: text), "HEAD") }
            let ref = String(text[text.index(after: at)...])
            return (URL(fileURLWithPath: String(text[..<at])), ref.isEmpty ? "HEAD" : ref)
        }
    }
}
