import Foundation

/// The engine's own model of a configuration graph: what config.swift
/// wrote as JSON, decoded into types the DSL does not share (as SwiftPM
/// decodes Package.swift into PackageModel). The DSL can change its Swift
/// surface freely; only the JSON format, versioned, binds the two.
public enum ConfigModel {
    /// The JSON format this engine reads (ConfigurationFormat, shared with the DSL).
    public static let formatVersion = ConfigurationFormat.version

    /// The environment variable through which the tool tells the evaluated
    /// config.swift where to write its graph.
    public static let outputVariable = ConfigurationFormat.graphOutputVariable
    /// Where mirage-config tells config.swift the constructors that make each device type.
    public static let constructorsVariable = ConfigurationFormat.constructorsVariable

    public struct Graph: Decodable {
        public let formatVersion: Int
        public let name: String
        public let job: String
        public let jobLocation: Location
        public let devices: [Device]
        /// The device types the job's `start` takes, in order.
        public let signature: [String]
        public let keys: [Key]
        public let applicationLocation: Location
        public let registerLocation: Location

        typealias CodingKeys = ConfigurationFormat.GraphField

        /// Reads the JSON config.swift wrote, refusing another format version.
        public static func decode(_ data: Data) throws -> Graph {
            struct Version: Decodable { let formatVersion: Int? }
            let version = (try? JSONDecoder().decode(Version.self, from: data))?.formatVersion
            guard version == ConfigModel.formatVersion else {
                throw MirageError("the device graph is format \(version.map(String.init) ?? "unknown"), but this mirage-config reads format \(ConfigModel.formatVersion)",
                                  fix: "configure again with this mirage-config (its cache is rebuilt)")
            }
            do { return try JSONDecoder().decode(Graph.self, from: data) } catch {
                throw MirageError("cannot read the device graph config.swift wrote: \(error)")
            }
        }
    }

    public struct Location: Codable, Hashable {
        public let file: String
        public let line: Int

        typealias CodingKeys = ConfigurationFormat.LocationField
    }

    public struct Device: Decodable, Hashable {
        public let type: String
        public let name: String
        public let implementation: Implementation
        public let arguments: [Device]
        public let keys: [Key]
        public let parameters: [String: String]
        public let isOptional: Bool
        public let location: Location?

        typealias CodingKeys = ConfigurationFormat.DeviceField

        // Devices equal by construction are one instance; where they were written does not count.
        public static func == (lhs: Device, rhs: Device) -> Bool {
            lhs.type == rhs.type && lhs.name == rhs.name && lhs.implementation == rhs.implementation
                && lhs.arguments == rhs.arguments && lhs.keys == rhs.keys && lhs.parameters == rhs.parameters
                && lhs.isOptional == rhs.isOptional
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(type)
            hasher.combine(name)
        }
    }

    public indirect enum Implementation: Decodable, Hashable {
        case boardDefault
        case driver(String)
        case match(key: String, cases: [String: Device], otherwise: Device?)

        typealias CodingKeys = ConfigurationFormat.ImplementationField

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let kind = try container.decode(String.self, forKey: .kind)
            switch ConfigurationFormat.ImplementationKind(rawValue: kind) {
            case .boardDefault: self = .boardDefault
            case .driver: self = .driver(try container.decode(String.self, forKey: .driver))
            case .match:
                self = .match(key: try container.decode(String.self, forKey: .key),
                              cases: try container.decode([String: Device].self, forKey: .cases),
                              otherwise: try container.decodeIfPresent(Device.self, forKey: .otherwise))
            default:
                throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown implementation '\(kind)'")
            }
        }
    }

    public enum KeyType: String, Codable {
        case string, int, bool
    }

    public enum KeyStage: String, Codable {
        case configure, boot
    }

    public struct Key: Decodable, Hashable {
        public let name: String
        public let doc: String
        public let type: KeyType
        public let stage: KeyStage
        /// The default, as text.
        public let defaultValue: String
        /// For an Int key: the values allowed, if limited.
        public let minimum: Int?
        public let maximum: Int?
        /// For a String key: the only values allowed, if limited.
        public let choices: [String]?
        /// For a String key: the form its text must have (KeyFormat).
        public let format: String?
        public let location: Location

        typealias CodingKeys = ConfigurationFormat.KeyField

        public static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.name == rhs.name && lhs.doc == rhs.doc && lhs.type == rhs.type && lhs.stage == rhs.stage
                && lhs.defaultValue == rhs.defaultValue && lhs.minimum == rhs.minimum && lhs.maximum == rhs.maximum
                && lhs.choices == rhs.choices && lhs.format == rhs.format
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    }
}
