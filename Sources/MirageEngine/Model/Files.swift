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
