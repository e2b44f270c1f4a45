// TLS 1.3 over a network stack, with credentials from a key-value store.

extension DeviceType {
    /// TLS 1.3 over a stack: servers (`tlsServer`; the job takes `tls: some
    /// TLSServers`) or clients (`tlsClient`; `tls: some TLSClients`), whose
    /// connections read and write like TCP's.
    public static let tls = DeviceType("tls")
}

/// TLS 1.3 servers over `stack`, presenting the certificates `certificates`:
/// each a certificate chain (PEM) and its private key (PEM: Ed25519 in
/// PKCS#8, or P-256 in PKCS#8 or SEC 1), values of the store `keys`: a disk,
/// so that no key is compiled into an image that may be copied around. A
/// client's server_name (SNI) chooses the first certificate that names its
/// host; one that names none, or no host, gets the first. `mirage-config tls
/// self-signed` (or `openssl req -x509 ...`) makes a pair; see examples/https.
/// `applicationProtocols` are the ALPN names (RFC 7301) the server accepts,
/// in its order of preference.
public func tlsServer(on stack: Device, keys: Device, certificates: [TLSCertificate] = [TLSCertificate("server.pem", privateKey: "server.key")],
                      applicationProtocols: [String] = [], random: Device = defaultEntropy, name: String = "tls",
                      file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    checkTLSArguments("tlsServer", stack: stack, keys: keys, random: random, applicationProtocols: applicationProtocols, at: location)
    if keys.implementation == .driver("kv-crunch") {
        Diagnostics.error("tlsServer(keys:) would compile the private key into the image (crunch)", at: location,
                          fix: "keep the key on a disk: tarStore(on: disk(\"keys\", image: \"keys.tar\"))")
    }
    if certificates.isEmpty {
        Diagnostics.error("tlsServer(certificates:) is empty", at: location,
                          fix: "name at least one: [TLSCertificate(\"server.pem\", privateKey: \"server.key\")]")
    }
    for files in certificates {
        for (label, key) in [("certificate", files.certificate), ("privateKey", files.privateKey)]
        where key.isEmpty || key.utf8.count > 255 || key.contains("\0") || key.contains("\n") {
            Diagnostics.error("tlsServer(certificates:) has the \(label) \(String(reflecting: key)), which is not a key of a store", at: location,
                              fix: "name a file in the store, such as \"server.pem\"")
        }
    }
    // The clock dates session tickets.
    return Device(.tls, name: name, implementation: .driver("tls-server"), arguments: [stack, keys, random, defaultClock],
                  parameters: ["certificates": certificates.map(\.certificate).joined(separator: "\n"),
                               "private-keys": certificates.map(\.privateKey).joined(separator: "\n"),
                               "application-protocols": applicationProtocols.joined(separator: ",")], location: location)
}

/// A certificate chain and its private key, by their names in a store.
public struct TLSCertificate {
    public let certificate: String
    public let privateKey: String

    public init(_ certificate: String, privateKey: String) {
        self.certificate = certificate
        self.privateKey = privateKey
    }
}

/// TLS 1.3 clients over `stack` that trust the certificates of the PEM
/// bundle `trustAnchors` in the store `keys` (a disk, or crunch: anchors are
/// public) and check certificates' dates against `wallClock`: with no
/// trusted time (no real-time clock, no `--time`) every certificate is
/// refused, never accepted unchecked. `applicationProtocols` are offered by ALPN.
public func tlsClient(on stack: Device, keys: Device, trustAnchors: String = "ca.pem", applicationProtocols: [String] = [],
                      random: Device = defaultEntropy, wallClock: Device = defaultWallClock, name: String = "tls",
                      file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    checkTLSArguments("tlsClient", stack: stack, keys: keys, random: random, applicationProtocols: applicationProtocols, at: location)
    if wallClock.type != .wallClock {
        Diagnostics.error("tlsClient(wallClock:) needs a wall clock, not a \(wallClock.type)", at: location, fix: "pass defaultWallClock")
    }
    if trustAnchors.isEmpty || trustAnchors.utf8.count > 255 || trustAnchors.contains("\0") {
        Diagnostics.error("tlsClient(trustAnchors:) has \(String(reflecting: trustAnchors)), which is not a key of a store", at: location,
                          fix: "name a PEM file in the store, such as \"ca.pem\"")
    }
    return Device(.tls, name: name, implementation: .driver("tls-client"), arguments: [stack, keys, random, wallClock],
                  parameters: ["trust-anchors": trustAnchors, "application-protocols": applicationProtocols.joined(separator: ",")],
                  location: location)
}

/// What both ends take: a stack, a store, an entropy device and ALPN names.
func checkTLSArguments(_ constructor: String, stack: Device, keys: Device, random: Device, applicationProtocols: [String],
                       at location: SourceLocation) {
    if stack.type != .stack {
        Diagnostics.error("\(constructor)(on:) needs a network stack, not a \(stack.type)", at: location, fix: "pass the stack the job uses")
    }
    if !keys.type.fits(.kv) {
        Diagnostics.error("\(constructor)(keys:) needs a key-value store, not a \(keys.type)", at: location,
                          fix: "pass tarStore(on: disk(\"keys\", image: \"keys.tar\")) or a littlefsStore")
    }
    if random.type != .entropy {
        Diagnostics.error("\(constructor)(random:) needs an entropy device, not a \(random.type)", at: location, fix: "pass defaultEntropy")
    }
    for name in applicationProtocols where name.isEmpty || name.utf8.count > 255 || name.contains(",") {
        Diagnostics.error("\(constructor)(applicationProtocols:) has \(String(reflecting: name)), which is not an ALPN name", at: location,
                          fix: "give names of 1 to 255 bytes without commas, such as \"http/1.1\"")
    }
}
