import Foundation

/// A unikernel's main job and its signature: the Swift type in the
/// unikernel's sources whose `static func start(...)` takes the devices in
/// this order, like functoria's `main "Unikernel.Main" (console @-> job)`.
///
///     let main = Job("Hello", needs: .console, .clock, keys: [message])
public struct Job {
    /// The Swift type whose `start` the glue code calls.
    public let name: String
    /// The device types `start` takes, in order.
    public let signature: [DeviceType]
    /// Keys the job reads (besides those its devices read).
    public let keys: [KeyDeclaration]
    public let location: SourceLocation

    public init(_ name: String, needs signature: DeviceType..., keys: [any AnyKey] = [],
                file: String = #filePath, line: Int = #line) {
        self.name = name
        self.signature = signature
        self.keys = keys.map(\.declaration)
        self.location = SourceLocation(file: file, line: line)
        if !SwiftNames.isIdentifier(name) || SwiftNames.keywords.contains(name) {
            Diagnostics.error("'\(name)' is not a Swift type name, so it cannot name the job", at: location,
                              fix: "name the Swift type whose static func start(...) the glue calls, such as \"Hello\"")
        }
    }

    /// Applies the job to devices, checking them against its signature.
    public func callAsFunction(_ devices: Device..., file: String = #filePath, line: Int = #line) -> Application {
        let location = SourceLocation(file: file, line: line)
        if devices.count != signature.count {
            let expected = signature.map(\.name).joined(separator: ", ")
            Diagnostics.error("'\(name)' needs \(signature.count) device\(signature.count == 1 ? "" : "s") (\(expected)), but is applied to \(devices.count)",
                              at: location, fix: "pass one device for each of: \(expected)")
        }
        for (index, (device, expected)) in zip(devices, signature).enumerated() where !device.type.fits(expected) {
            let declared = device.location.map { " (declared at \(Diagnostics.describe($0)))" } ?? ""
            Diagnostics.error("'\(name)' expects a \(expected) as its \(Diagnostics.ordinal(index + 1)) device, but got the \(device.type) '\(device.name)'\(declared)",
                              at: location, fix: "devices that fit: \(Catalog.constructors(for: expected))")
        }
        return Application(job: self, devices: devices, location: location)
    }
}

/// A job applied to its devices: what `register` takes.
public struct Application {
    public let job: Job
    public let devices: [Device]
    public let location: SourceLocation
}

/// The device graph that evaluating config.swift produces, and that
/// `mirage-config` reads back as JSON into its own model (as SwiftPM reads
/// Package.swift into PackageModel), so the DSL can change without
/// breaking the tool's cached graphs.
public struct ConfigurationGraph: Encodable {
    /// The version of the JSON this DSL writes; the tool refuses others.
    public static let formatVersion = ConfigurationFormat.version
    public let formatVersion = ConfigurationGraph.formatVersion
    /// The unikernel's name: the image is `dist/NAME.elf`.
    public let name: String
    /// The Swift type that is the main job.
    public let job: String
    public let jobLocation: SourceLocation
    /// The devices the job is applied to, in signature order.
    public let devices: [Device]
    /// The types the job's `start` takes them as (a device may stand in for its type: a writable store for a readable one).
    public let signature: [DeviceType]
    /// The job's own keys.
    public let keys: [KeyDeclaration]
    /// Where the job is applied to its devices.
    public let applicationLocation: SourceLocation
    public let registerLocation: SourceLocation

    public init(name: String, job: String, jobLocation: SourceLocation, devices: [Device], signature: [DeviceType],
                keys: [KeyDeclaration], applicationLocation: SourceLocation, registerLocation: SourceLocation) {
        self.name = name
        self.job = job
        self.jobLocation = jobLocation
        self.devices = devices
        self.signature = signature
        self.keys = keys
        self.applicationLocation = applicationLocation
        self.registerLocation = registerLocation
    }

    /// The environment variable through which `mirage-config` tells the
    /// evaluated config where to write the graph.
    public static let outputVariable = ConfigurationFormat.graphOutputVariable

    typealias CodingKeys = ConfigurationFormat.GraphField
}

/// Registers the unikernel `name`: the last line of every config.swift.
/// Writes the device graph for `mirage-config`, or prints every error found
/// and exits with status 1.
public func register(_ name: String, _ application: Application, file: String = #filePath, line: Int = #line) {
    let location = SourceLocation(file: file, line: line)
    if let first = Registration.first {
        Diagnostics.error("register is called a second time (the first is at \(Diagnostics.describe(first)))", at: location,
                          fix: "a config.swift registers one unikernel: keep one register(...)")
        Diagnostics.exitIfErrors()
    }
    Registration.first = location
    if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
        Diagnostics.error("'\(name)' is not a valid unikernel name", at: location,
                          fix: "use letters, digits, '-' and '_' (it names dist/NAME.elf)")
    }
    Diagnostics.exitIfErrors()
    let graph = ConfigurationGraph(name: name, job: application.job.name, jobLocation: application.job.location,
                                   devices: application.devices, signature: application.job.signature, keys: application.job.keys,
                                   applicationLocation: application.location, registerLocation: location)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        let data = try encoder.encode(graph)
        if let path = ProcessInfo.processInfo.environment[ConfigurationGraph.outputVariable] {
            try data.write(to: URL(fileURLWithPath: path))
        } else {
            FileHandle.standardOutput.write(data)
        }
    } catch {
        FileHandle.standardError.write(Data("error: cannot write the device graph: \(error)\n".utf8))
        exit(1)
    }
}

/// Where `register` was first called.
enum Registration {
    nonisolated(unsafe) static var first: SourceLocation?
}
