import Foundation

/// Folders the build puts into the image (the kv-crunch store's): each is
/// packed by the host tool of the store its driver names (`embeds-as:
/// kv-tar`, a ustar archive with every varying field fixed), so the image
/// is a function of the files' names and bytes alone; an assembly file
/// `.incbin`s the packed images and lists them in the table
/// Start/embedded.c exposes.
public enum EmbeddedData {
    /// The assembly file in _build/.
    static let assemblyName = "embedded.S"

    /// One folder to embed, for the device `device`.
    public struct Folder {
        public let device: String
        /// The folder to pack (for a git tree, prepare exports the commit's files into one of its own).
        public let directory: URL
        /// The repository and the commit its ref named when the folders were found,
        /// whose files are embedded instead of a folder's (`crunch(git:ref:)`).
        let git: (tree: GitTree, commit: String)?
        /// The store driver whose host tool packs it.
        public let packer: Driver
        /// The configuration's libraries that check the files a store carries
        /// (`file-check:`, the dns library's zone files); for the message, the config's line.
        let checks: [Driver]
        let place: String
    }

    /// The folders the configuration's devices embed, each checked to exist
    /// and a folder's files by the configuration's libraries' file checks (a
    /// git tree's are checked by prepare, once exported);
    /// `fetching`: clone or fetch the repositories named by URL (configure does, build does not).
    static func folders(_ configuration: ResolvedConfiguration, drivers: DriverCatalog, installation: Installation, base: URL,
                        cache: URL = ToolCache.folder, fetching: Bool = false) throws -> [Folder] {
        var folders: [Folder] = []
        let checks = configuration.drivers.filter { $0.fileCheck != nil }
        for device in configuration.devices {
            let driver = try drivers.driver(device.driver)
            guard let parameter = driver.embeds else { continue }
            guard let format = driver.embedsAs else {
                throw MirageError("\(driver.folder.appendingPathComponent(Driver.descriptorName).path): embeds: needs embeds-as: STORE, the driver whose host tool packs the folder")
            }
            let place = device.usedAt.first.map { "\($0): " } ?? ""
            // A device that names a git repository (and a ref) embeds that commit's files.
            if let repository = device.parameters["git"] {
                let tree = GitTree(repository: repository, ref: device.parameters["ref"] ?? "HEAD")
                let commit: String
                do {
                    if fetching || !tree.isRemote { try tree.update(base: base, cache: cache) }
                    commit = try tree.commit(base: base, cache: cache)
                } catch let error as MirageError {
                    throw MirageError("\(place)the \(device.type) '\(device.name)': \(error.message)", fix: error.fix)
                }
                folders.append(Folder(device: device.name, directory: tree.local(base: base, cache: cache), git: (tree, commit),
                                      packer: try drivers.driver(format), checks: checks, place: place))
                continue
            }
            guard let path = device.parameters[parameter] else {
                throw MirageError("\(place)the \(device.type) '\(device.name)' names no \(parameter) to embed")
            }
            let directory = resolvePath(path, in: base)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw MirageError("\(place)the \(device.type) '\(device.name)' embeds the folder '\(path)', which does not exist",
                                  fix: "make the folder \(displayPath(directory.path)), or name another (relative to config.swift)")
            }
            do {
                try FileChecks.run(in: directory, shownAs: displayPath(directory.path), drivers: checks, installation: installation)
            } catch let error as MirageError {
                throw MirageError("\(place)the \(device.type) '\(device.name)' embeds \(path), where " + error.message, fix: error.fix)
            }
            folders.append(Folder(device: device.name, directory: directory, git: nil, packer: try drivers.driver(format),
                                  checks: checks, place: place))
        }
        return folders
    }

    /// Packs each folder into `folder`/DEVICE.image (rewritten only when its
    /// bytes change, so ninja reassembles only then) and writes the assembly
    /// that puts them in the image; returns the packed images.
    /// `forProcess`: for the host target, whose program is position-independent.
    static func prepare(_ folders: [Folder], in folder: URL, assembly: URL, seenFrom base: URL, within root: URL,
                        installation: Installation, cache: URL = ToolCache.folder, forProcess: Bool = false) throws -> [URL] {
        try FileManager.default.createFolder(folder)
        var archives: [URL] = []
        for item in folders {
            let archive = folder.appendingPathComponent("\(item.device).image")
            let staging = folder.appendingPathComponent("\(item.device).image.new")
            var directory = item.directory
            if let (tree, commit) = item.git {
                directory = folder.appendingPathComponent("\(item.device).tree")
                try tree.export(commit, base: root, cache: cache, into: directory)
                do {
                    try FileChecks.run(in: directory, shownAs: "\(tree.repository)@\(tree.ref)", drivers: item.checks, installation: installation)
                } catch let error as MirageError {
                    throw MirageError("\(item.place)'\(item.device)' embeds the git tree of \(tree.repository)@\(tree.ref), where " + error.message,
                                      fix: error.fix)
                }
            }
            try item.packer.pack(directory, into: staging, installation: installation)
            defer { try? FileManager.default.removeItem(at: staging) }
            _ = try writeIfChanged(try Data(contentsOf: staging), to: archive)
            archives.append(archive)
        }
        _ = try writeIfChanged(source(folders.map(\.device), archives: archives.map { path(of: $0, from: base, within: root) }, forProcess: forProcess),
                               to: assembly)
        return archives
    }

    /// The table {name, start, end} ending with zeros, then the names and the
    /// archives. Its words are addresses (`.dc.a`: 4 bytes on ARM, 8 on the
    /// host); a position-independent program has them relocated at load, so
    /// there the table is in .data.rel.ro, written once and then read-only.
    static func source(_ devices: [String], archives: [String], forProcess: Bool = false) -> String {
        var text = "// The data mirage-config build embeds; build rewrites it.\n"
        let section = forProcess ? ".data.rel.ro.mirage_embedded, \"aw\"" : ".rodata.mirage_embedded, \"a\""
        text += "    .section \(section)\n    .balign \(forProcess ? 8 : 4)\n    .global mirage_embedded_table\nmirage_embedded_table:\n"
        for index in devices.indices { text += "    .dc.a embedded_name_\(index), embedded_start_\(index), embedded_end_\(index)\n" }
        text += "    .dc.a 0, 0, 0\n"
        for (index, device) in devices.enumerated() {
            text += "embedded_name_\(index):\n    .asciz \"\(device)\"\n    .balign 4\n"
            text += "embedded_start_\(index):\n    .incbin \"\(assemblyString(archives[index]))\"\nembedded_end_\(index):\n    .balign 4\n"
        }
        return text
    }

    /// A path inside an assembler string: backslash and quote escaped.
    static func assemblyString(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
