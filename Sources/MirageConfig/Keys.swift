/// When a key's value is fixed.
public enum KeyStage: String, Encodable, Sendable {
    /// Given to `mirage-config configure --NAME VALUE` and compiled in.
    case configure
    /// Written into the device tree's `/chosen/bootargs` at configure time,
    /// and overridable at boot (`mirage-config run -- --NAME=VALUE`, or
    /// U-Boot's `setenv bootargs`) without a rebuild.
    case boot
}

/// The type of a key's value.
public enum KeyType: String, Encodable, Sendable {
    case string, int, bool
}

/// A value a key can hold.
public protocol KeyValue: Sendable {
    /// The key type for this Swift type.
    static var keyType: KeyType { get }
    /// The value as it is written on a command line.
    var keyText: String { get }
}

extension String: KeyValue {
    public static var keyType: KeyType { .string }
    public var keyText: String { self }
}

extension Int: KeyValue {
    public static var keyType: KeyType { .int }
    public var keyText: String { String(self) }
}

extension Bool: KeyValue {
    public static var keyType: KeyType { .bool }
    public var keyText: String { self ? "true" : "false" }
}

/// Everything the tool needs to know about a key, whatever its value type.
public struct KeyDeclaration: Hashable, Encodable, Sendable {
    public let name: String
    public let doc: String
    public let type: KeyType
    public let stage: KeyStage
    /// The default, as text.
    public let defaultValue: String
    /// For an Int key: the smallest and largest values allowed, if limited.
    public let minimum: Int?
    public let maximum: Int?
    /// For a String key: the only values allowed, if limited.
    public let choices: [String]?
    /// For a String key: the form its text must have, which `configure` and
    /// `run` check on the host (KeyFormat's names: "ipv4-host-or-dhcp", ...).
    public let format: String?
    public let location: SourceLocation

    typealias CodingKeys = ConfigurationFormat.KeyField

    public init(name: String, doc: String, type: KeyType, stage: KeyStage, defaultValue: String,
                minimum: Int? = nil, maximum: Int? = nil, choices: [String]? = nil, format: String? = nil, location: SourceLocation) {
        self.name = name
        self.doc = doc
        self.type = type
        self.stage = stage
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.format = format
        self.location = location
    }

    public static func == (lhs: KeyDeclaration, rhs: KeyDeclaration) -> Bool {
        lhs.name == rhs.name && lhs.doc == rhs.doc && lhs.type == rhs.type && lhs.stage == rhs.stage
            && lhs.defaultValue == rhs.defaultValue && lhs.minimum == rhs.minimum && lhs.maximum == rhs.maximum
            && lhs.choices == rhs.choices && lhs.format == rhs.format
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// The same key with another default, as a device's configuration sets it.
    public func defaulting(to value: String) -> KeyDeclaration {
        KeyDeclaration(name: name, doc: doc, type: type, stage: stage, defaultValue: value, minimum: minimum, maximum: maximum,
                       choices: choices, format: format, location: location)
    }

    /// The same key, its text of the form `format` names.
    public func formatted(_ format: String) -> KeyDeclaration {
        KeyDeclaration(name: name, doc: doc, type: type, stage: stage, defaultValue: defaultValue, minimum: minimum, maximum: maximum,
                       choices: choices, format: format, location: location)
    }
}

/// Type-erased access to a key, so a job can list keys of different types.
public protocol AnyKey {
    var declaration: KeyDeclaration { get }
}

/// A typed key: a value the unikernel reads, with a name, a doc and a default.
///
///     let message = Key.boot("message", doc: "What to print", default: "Hello")
public struct Key<Value: KeyValue>: AnyKey {
    public let declaration: KeyDeclaration
    public var name: String { declaration.name }

    init(_ name: String, doc: String, default value: Value, stage: KeyStage, location: SourceLocation,
         range: ClosedRange<Int>? = nil, choices: [String]? = nil) {
        declaration = KeyDeclaration(name: name, doc: doc, type: Value.keyType, stage: stage, defaultValue: value.keyText,
                                     minimum: range?.lowerBound, maximum: range?.upperBound, choices: choices, location: location)
        Catalog.checkKeyName(name, at: location)
        if let range, let number = value as? Int, !range.contains(number) {
            Diagnostics.error("the default of key '\(name)', \(number), is outside its range \(range.lowerBound)...\(range.upperBound)",
                              at: location, fix: "choose a default in the range")
        }
        if let choices, !choices.contains(value.keyText) {
            Diagnostics.error("the default of key '\(name)', '\(value.keyText)', is not one of its choices (\(choices.joined(separator: ", ")))",
                              at: location, fix: "choose a default among the choices")
        }
    }

    /// A key read at boot from `/chosen/bootargs`; `configure --NAME` sets
    /// the value written there and `run -- --NAME=VALUE` overrides it.
    public static func boot(_ name: String, doc: String, default value: Value,
                            file: String = #filePath, line: Int = #line) -> Key<Value> {
        Key(name, doc: doc, default: value, stage: .boot, location: SourceLocation(file: file, line: line))
    }

    /// A key fixed by `mirage-config configure --NAME VALUE` and compiled into the image.
    public static func configure(_ name: String, doc: String, default value: Value,
                                 file: String = #filePath, line: Int = #line) -> Key<Value> {
        Key(name, doc: doc, default: value, stage: .configure, location: SourceLocation(file: file, line: line))
    }
}

extension Key where Value == Int {
    /// A boot-time Int key whose values must lie in `range`, checked by
    /// `configure` and `run` alike.
    public static func boot(_ name: String, doc: String, default value: Int, range: ClosedRange<Int>,
                            file: String = #filePath, line: Int = #line) -> Key<Int> {
        Key(name, doc: doc, default: value, stage: .boot, location: SourceLocation(file: file, line: line), range: range)
    }

    /// A configure-time Int key whose values must lie in `range`.
    public static func configure(_ name: String, doc: String, default value: Int, range: ClosedRange<Int>,
                                 file: String = #filePath, line: Int = #line) -> Key<Int> {
        Key(name, doc: doc, default: value, stage: .configure, location: SourceLocation(file: file, line: line), range: range)
    }
}

extension Key where Value == String {
    /// A boot-time String key that takes only one of `choices`.
    public static func boot(_ name: String, doc: String, default value: String, choices: [String],
                            file: String = #filePath, line: Int = #line) -> Key<String> {
        Key(name, doc: doc, default: value, stage: .boot, location: SourceLocation(file: file, line: line), choices: choices)
    }

    /// A configure-time String key that takes only one of `choices`.
    public static func configure(_ name: String, doc: String, default value: String, choices: [String],
                                 file: String = #filePath, line: Int = #line) -> Key<String> {
        Key(name, doc: doc, default: value, stage: .configure, location: SourceLocation(file: file, line: line), choices: choices)
    }
}
