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
