import Foundation

/// Folders the build puts into the image (the kv-crunch store's): each is
/// packed by GNU tar as a ustar archive with every varying field fixed
/// (name order, mtime 0, owner 0), so the image is a function of the
/// files' names and bytes alone; an assembly file `.incbin`s the archives
/// and lists them in the table Start/embedded.c exposes.
public enum EmbeddedData {
    /// The assembly file in _build/.
    static let assemblyName = "embedded.S"

    /// One folder to embed, for the device `device`.
    public struct Folder: Equatable {
        public let device: String
        public let directory: URL
    }

    /// The folders the configuration's devices embed, each checked to exist.
    public static func folders(_ configuration: ResolvedConfiguration, drivers: DriverCatalog, base: URL) throws -> [Folder] {
        var folders: [Folder] = []
        for device in configuration.devices {
            guard let parameter = try drivers.driver(device.driver).embeds else { continue }
            let place = device.usedAt.first.map { "\($0): " } ?? ""
            guard let path = device.parameters[parameter] else {
                throw MirageError("\(place)the \(device.type) '\(device.name)' names no \(parameter) to embed")
            }
            let directory = resolvePath(path, in: base)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw MirageError("\(place)the \(device.type) '\(device.name)' embeds the folder '\(path)', which does not exist",
                                  fix: "make the folder \(displayPath(directory.path)), or name another (relative to config.swift)")
            }
            folders.append(Folder(device: device.name, directory: directory))
        }
        return folders
    }

    /// Packs `directory` into the ustar archive `archive` with GNU tar,
    /// reproducibly. A link is packed as the regular file it names (a hard
    /// link as its own bytes, never a link member the store would not
    /// serve); a link that leads out of the folder, to nothing, or to a
    /// folder is refused, naming it: the image must not carry a host file
    /// (/etc/passwd) the folder only pointed at.
    public static func pack(_ directory: URL, to archive: URL) throws {
        try checkLinks(in: directory)
        guard let tar = findInPath("tar") else {
            throw MirageError("GNU tar is not installed; it packs folders into ustar archives", fix: "apt-get install tar (or run scripts/setup)")
        }
        let result = try Shell.run(tar, ["--create", "--format=ustar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0",
                                         "--numeric-owner", "--mode=u+rw,go+r,go-w", "--dereference", "--hard-dereference",
                                         "--file", archive.path, "--directory", directory.path, "."],
                                   environment: ["LC_ALL": "C", "TAR_OPTIONS": ""], timeout: 300)
        guard result.status == 0 else {
            throw MirageError("tar could not pack \(displayPath(directory.path)): \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))",
                              fix: "a ustar archive holds names of at most 255 bytes and files under 8 GiB")
        }
    }

    /// Refuses symbolic links that leave `directory` (once resolved), lead
    /// nowhere or lead to a folder, and anything that is not a file, a
    /// folder or such a link (a FIFO, a device).
    static func checkLinks(in directory: URL) throws {
        let root = directory.resolvingSymlinksInPath().path
        let files = FileManager.default
        guard let walk = files.enumerator(atPath: directory.path) else {
            throw MirageError("cannot read the folder \(displayPath(directory.path))", fix: "check that it exists and may be read")
        }
        while let relative = walk.nextObject() as? String {
            let path = directory.appendingPathComponent(relative).path
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG, S_IFDIR: continue
            case S_IFLNK:
                let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                var isFolder: ObjCBool = false
                guard files.fileExists(atPath: target, isDirectory: &isFolder) else {
                    throw MirageError("\(displayPath(path)) is a link to nothing", fix: "remove the link, or make what it names")
                }
                guard target.hasPrefix(root + "/") else {
                    throw MirageError("\(displayPath(path)) is a link to \(target), outside \(displayPath(directory.path)): packing it would put that file in the image",
                                      fix: "copy the file into the folder, or remove the link")
                }
                if isFolder.boolValue {
                    throw MirageError("\(displayPath(path)) is a link to a folder", fix: "move or copy the folder there instead of linking it")
                }
            default:
                throw MirageError("\(displayPath(path)) is neither a file nor a folder", fix: "remove it from the folder to pack")
            }
        }
    }

    /// Packs each folder into `folder`/DEVICE.tar (rewritten only when its
    /// bytes change, so ninja reassembles only then) and writes the assembly
    /// that puts them in the image; returns the archives.
    static func prepare(_ folders: [Folder], in folder: URL, assembly: URL, seenFrom base: URL, within root: URL) throws -> [URL] {
        try FileManager.default.createFolder(folder)
        var archives: [URL] = []
        for item in folders {
            let archive = folder.appendingPathComponent("\(item.device).tar")
            let staging = folder.appendingPathComponent("\(item.device).tar.new")
            try pack(item.directory, to: staging)
            defer { try? FileManager.default.removeItem(at: staging) }
            _ = try writeIfChanged(try Data(contentsOf: staging), to: archive)
            archives.append(archive)
        }
        _ = try writeIfChanged(source(folders.map(\.device), archives: archives.map { path(of: $0, from: base, within: root) }), to: assembly)
        return archives
    }

    /// The table {name, start, end} ending with zeros, then the names and the archives.
    static func source(_ devices: [String], archives: [String]) -> String {
        var text = "// The data mirage-config build embeds; build rewrites it.\n"
        text += "    .section .rodata.mirage_embedded, \"a\"\n    .balign 4\n    .global mirage_embedded_table\nmirage_embedded_table:\n"
        for index in devices.indices { text += "    .word embedded_name_\(index), embedded_start_\(index), embedded_end_\(index)\n" }
        text += "    .word 0, 0, 0\n"
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
