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
