import Foundation

/// The tool's cache, shared by every unikernel folder of this user:
/// `$XDG_CACHE_HOME/mirage-config`, else `$HOME/.cache/mirage-config`. It
/// holds the compiled DSL (configure) and compiled runtimes (build), each
/// under a key made of its inputs.
enum ToolCache {
    static var folder: URL {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            return URL(fileURLWithPath: cache).appendingPathComponent("mirage-config")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/mirage-config")
    }
}
