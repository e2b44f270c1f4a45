/// Key values as `configure` takes them on its command line.
public enum KeyArguments {
    /// `--name value` and `--name=value` pairs; a bare `--flag` means true.
    public static func parse(_ arguments: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw MirageError("unexpected argument '\(argument)'", fix: "give keys as --NAME VALUE; see mirage-config configure --help")
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                values[String(body[..<equals])] = String(body[body.index(after: equals)...])
            } else if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") {
                values[String(body)] = arguments[index + 1]
                index += 1
            } else {
                values[String(body)] = "true"
            }
            index += 1
        }
        return values
    }
}
