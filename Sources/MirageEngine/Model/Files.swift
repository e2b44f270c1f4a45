import Foundation

extension FileManager {
    func createFolder(_ url: URL) throws {
        try createDirectory(at: url, withIntermediateDirectories: true)
    }
}

/// Writes `text` to `url` only if it differs, so unchanged outputs keep their dates.
@discardableResult
func writeIfChanged(_ text: String, to url: URL) throws -> Bool {
    try writeIfChanged(Data(text.utf8), to: url)
}

/// Writes `data` to `url` only if it differs.
@discardableResult
func writeIfChanged(_ data: Data, to url: URL) throws -> Bool {
    if let existing = try? Data(contentsOf: url), existing == data { return false }
    try FileManager.default.createFolder(url.deletingLastPathComponent())
    try data.write(to: url, options: .atomic)
    return true
}

/// `path` relative to the current folder when it is inside it.
public func displayPath(_ path: String, relativeTo base: String = FileManager.default.currentDirectoryPath) -> String {
    if path.hasPrefix(base + "/") { return String(path.dropFirst(base.count + 1)) }
    return path
}

/// The files in `folder` whose names end in one of `extensions`, in name
/// order (so builds and hashes do not depend on the file system's order);
/// none if the folder does not exist.
func sourceFiles(in folder: URL, withExtensions extensions: Set<String>) throws -> [URL] {
    guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
    return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        .filter { extensions.contains($0.pathExtension) }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// The Swift files in `folder`, in name order.
func swiftSources(in folder: URL) throws -> [URL] { try sourceFiles(in: folder, withExtensions: ["swift"]) }

/// Checks that `url` is a regular file that can be read, else says what it
/// is instead: `what` names what the command expected there ("the disk image").
public func requireReadableFile(_ url: URL, _ what: String) throws {
    var info = stat()
    guard stat(url.path, &info) == 0 else {
        throw MirageError("\(displayPath(url.path)) does not exist; \(what) must be a file", fix: "check the path")
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw MirageError("\(displayPath(url.path)) is a folder; \(what) must be a file", fix: "name the file, not its folder")
    default: throw MirageError("\(displayPath(url.path)) is not a regular file (a device or a pipe); \(what) must be a file", fix: "name a file")
    }
    guard access(url.path, R_OK) == 0 else {
        throw MirageError("\(displayPath(url.path)) cannot be read", fix: "check its permissions")
    }
}

/// Checks that `url` can be written as a new file, or replaces a regular
/// file: never a folder or a device (a rename over /dev/null would replace
/// the device), and its folder exists and can be written.
public func requireWritableFile(_ url: URL, _ what: String) throws {
    var info = stat()
    if lstat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
        let kind = info.st_mode & S_IFMT == S_IFDIR ? "a folder" : "not a regular file (a device, a pipe or a link)"
        throw MirageError("\(displayPath(url.path)) is \(kind): \(what) would replace it", fix: "name a new file, or a regular file to replace")
    }
    let folder = url.deletingLastPathComponent()
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
        throw MirageError("the folder of \(displayPath(url.path)) does not exist, so \(what) cannot be written there",
                          fix: "make the folder first (mkdir -p \(shellQuoted(displayPath(folder.path)))), or name another path")
    }
    guard access(folder.path, W_OK) == 0 else {
        throw MirageError("\(displayPath(folder.path)) is not writable, so \(what) cannot be written there", fix: "name a path in a folder you may write")
    }
}

/// `url`'s path as seen from the folder `base`: relative ("../x") when both
/// lie in `within`, else absolute. Generated build files name the
/// unikernel's own files so, and never hold the folder's path, whatever it
/// holds (a quote, a dollar sign, a newline).
func path(of url: URL, from base: URL, within: URL) -> String {
    let target = url.standardizedFileURL.path, from = base.standardizedFileURL.path, root = within.standardizedFileURL.path
    guard target.hasPrefix(root + "/"), from == root || from.hasPrefix(root + "/") else { return target }
    let targetParts = target.split(separator: "/", omittingEmptySubsequences: true)
    let baseParts = from.split(separator: "/", omittingEmptySubsequences: true)
    var common = 0
    while common < min(targetParts.count, baseParts.count), targetParts[common] == baseParts[common] { common += 1 }
    let ups = Array(repeating: "..", count: baseParts.count - common)
    let parts = ups + targetParts[common...].map(String.init)
    return parts.isEmpty ? "." : parts.joined(separator: "/")
}

/// `path` as the person meant it: absolute as it is, relative from the
/// folder `folder` (taken as a folder even when its URL does not end in
/// "/", which URL's relativeTo would read as a file and drop).
func resolvePath(_ path: String, in folder: URL) -> URL {
    URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: folder.path, isDirectory: true)).standardizedFileURL
}
