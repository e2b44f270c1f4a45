import Foundation

/// An error a person can act on: what went wrong, where, and what would fix it.
public struct MirageError: Error, CustomStringConvertible {
    public let message: String
    public let location: (file: String, line: Int)?
    public let fix: String?

    public init(_ message: String, at location: (file: String, line: Int)? = nil, fix: String? = nil) {
        self.message = message
        self.location = location
        self.fix = fix
    }

    public var description: String {
        var text = location.map { "\($0.file):\($0.line): error: " } ?? "error: "
        text += message
        if let fix { text += "\n    fix: \(fix)" }
        return text
    }
}

/// Several errors, each on its own lines.
public struct MirageErrors: Error, CustomStringConvertible {
    public let errors: [MirageError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Every error the tool reports, as a person should see it: its own errors
/// as they are, and anything else (Foundation's file errors, a decoder's)
/// as one line saying what failed on which file and what to do, never a
/// Foundation error dump.
public enum ErrorReport {
    /// The text to print for `error`.
    public static func text(for error: Error) -> String {
        if let error = error as? MirageError { return error.description }
        if let errors = error as? MirageErrors { return errors.description }
        return plain(error).description
    }

    /// `error` as a MirageError: one line, with a fix where the cause is known.
    public static func plain(_ error: Error) -> MirageError {
        if let error = error as? MirageError { return error }
        if error is DecodingError { return MirageError("a file the tool reads does not have the form it expects", fix: "make it again with mirage-config") }
        let ns = error as NSError
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let posix: Int32? = ns.domain == NSPOSIXErrorDomain ? Int32(ns.code)
            : (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else {
            return MirageError("an unexpected error: \(String(describing: error).split(separator: "\n").first ?? "")",
                               fix: "say which command failed this way in an issue")
        }
        let reason = posix.map { String(cString: strerror($0)) } ?? cocoaReason(ns.code)
        let what = path.map { "\(displayPath($0)): \(reason)" } ?? reason
        return MirageError(what, fix: posix.flatMap(fix(forErrno:)) ?? cocoaFix(ns.code))
    }

    static func fix(forErrno code: Int32) -> String? {
        switch code {
        case ENOENT: return "check the path: nothing is there"
        case EISDIR: return "give a file there, not a folder"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EACCES, EPERM: return "check its permissions, or give a path you may use"
        case ENOSPC: return "free some space on that disk"
        case EROFS: return "that file system is read-only: give a path on a writable one"
        default: return nil
        }
    }

    static func cocoaReason(_ code: Int) -> String {
        switch code {
        case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileReadNoSuchFile.rawValue: return "No such file or directory"
        case CocoaError.fileReadNoPermission.rawValue, CocoaError.fileWriteNoPermission.rawValue: return "Permission denied"
        case CocoaError.fileWriteOutOfSpace.rawValue: return "No space left on device"
        case CocoaError.fileWriteVolumeReadOnly.rawValue: return "Read-only file system"
        case CocoaError.fileReadCorruptFile.rawValue: return "the file is not what it should be"
        default: return "the file could not be used"
        }
    }

    static func cocoaFix(_ code: Int) -> String? {
        switch code {
        case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileReadNoSuchFile.rawValue: return fix(forErrno: ENOENT)
        case CocoaError.fileReadNoPermission.rawValue, CocoaError.fileWriteNoPermission.rawValue: return fix(forErrno: EACCES)
        case CocoaError.fileWriteOutOfSpace.rawValue: return fix(forErrno: ENOSPC)
        default: return "check the path"
        }
    }
}
