import Foundation
@testable import MirageConfig
@testable import MirageEngine
import XCTest

/// The TLS device on the host side: its driver and libraries, the glue that
/// reads its credentials from the store, and the mistakes config.swift may make.
final class TLSConfigurationTests: XCTestCase {
    func devices() -> [Device] {
        let stack = genericStack()
        let keys = tarStore(on: disk("keys", image: "keys.tar"), name: "credentials")
        return [defaultConsole, stack, tlsServer(on: stack, keys: keys, certificates: [TLSCertificate("a \"quoted\" name.pem", privateKey: "server.key"),
                                                                                   TLSCertificate("other.pem", privateKey: "other.key")],
                                                 applicationProtocols: ["h2", "http/1.1"])]
    }

    func testTheDeviceBringsTheTLSAndCryptoLibraries() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph(devices()), on: "virt")
        XCTAssertEqual(configuration.device(named: "tls")?.driver, "tls-server")
        XCTAssertEqual(configuration.device(named: "tls")?.arguments, ["stack", "credentials", "entropy", "clock"])
        let names = try Fixtures.drivers.closure(of: configuration.devices.map(\.driver)).map(\.name)
        for library in ["tls", "sha2", "curve25519", "p256", "chacha20-poly1305", "aes-gcm"] { XCTAssert(names.contains(library), "\(names)") }
    }

    /// The certificates' and keys' names, one per line, in the order given (the first is the default).
    func testTheGlueReadsTheCredentialsFromTheStoreWithEscapedNames() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph(devices()), on: "virt")
        let glue = try GlueEmitter(configuration: configuration, drivers: Fixtures.drivers).source()
        XCTAssert(glue.contains("let tls = TLSService(stack: stack, random: entropy, clock: clock, configuration: TLSCredentials.load(from: credentials, "
                                + "certificates: \"a \\\"quoted\\\" name.pem\\nother.pem\", privateKeys: \"server.key\\nother.key\", "
                                + "applicationProtocols: \"h2,http/1.1\"))"), glue)
    }

    func testMistakesAreNamedWithTheirLine() {
        let before = Diagnostics.errors.count
        let stack = genericStack()
        _ = tlsServer(on: defaultConsole, keys: tarStore(on: disk("keys")), file: "config.swift", line: 4)
        _ = tlsServer(on: stack, keys: crunch("keys"), file: "config.swift", line: 5)
        _ = tlsServer(on: stack, keys: tarStore(on: disk("keys")), certificates: [TLSCertificate("a.pem", privateKey: "")], applicationProtocols: ["a,b"],
                      file: "config.swift", line: 6)
        _ = tlsServer(on: stack, keys: tarStore(on: disk("keys")), certificates: [TLSCertificate("two\nlines.pem", privateKey: "a.key")], file: "config.swift", line: 7)
        _ = tlsServer(on: stack, keys: tarStore(on: disk("keys")), certificates: [], file: "config.swift", line: 8)
        let errors = Array(Diagnostics.errors.dropFirst(before))
        Diagnostics.errors.removeLast(errors.count)
        let text = errors.joined(separator: "\n")
        XCTAssert(text.contains("config.swift:4: error: tlsServer(on:) needs a network stack, not a console"), text)
        XCTAssert(text.contains("config.swift:5: error: tlsServer(keys:) would compile the private key into the image (crunch)"), text)
        XCTAssert(text.contains("config.swift:6: error: tlsServer(certificates:) has the privateKey \"\", which is not a key of a store"), text)
        XCTAssert(text.contains("config.swift:7: error: tlsServer(certificates:) has the certificate \"two\\nlines.pem\", which is not a key of a store"), text)
        XCTAssert(text.contains("config.swift:8: error: tlsServer(certificates:) is empty"), text)
        XCTAssert(text.contains("config.swift:6: error: tlsServer(applicationProtocols:) has \"a,b\", which is not an ALPN name"), text)
        XCTAssertEqual(errors.count, 6, text)
    }

    /// A client: its wall clock (the board's PL031 on virt), its anchors'
    /// store and the X.509 and RSA libraries, with the bundle's name escaped.
    func testTheClientDeviceReadsItsAnchorsAndTakesTheWallClock() throws {
        let stack = genericStack()
        let anchors = crunch("anchors", name: "anchors")
        let devices = [defaultConsole, stack, tlsClient(on: stack, keys: anchors, trustAnchors: "my \"roots\".pem", applicationProtocols: ["http/1.1"])]
        let configuration = try Fixtures.resolve(Fixtures.graph(devices), on: "virt")
        XCTAssertEqual(configuration.device(named: "tls")?.driver, "tls-client")
        XCTAssertEqual(configuration.device(named: "tls")?.arguments, ["stack", "anchors", "entropy", "wallClock"])
        XCTAssertEqual(configuration.device(named: "rtc")?.driver, "pl031")
        let names = try Fixtures.drivers.closure(of: configuration.devices.map(\.driver)).map(\.name)
        for library in ["tls", "tls-streams", "x509", "rsa", "sha2", "p256", "curve25519"] { XCTAssert(names.contains(library), "\(names)") }
        let glue = try GlueEmitter(configuration: configuration, drivers: Fixtures.drivers).source()
        XCTAssert(glue.contains("trustStore: TLSTrustAnchors.load(from: anchors, bundle: \"my \\\"roots\\\".pem\"), applicationProtocols: \"http/1.1\")"), glue)
    }

    func testClientMistakesAreNamedWithTheirLine() {
        let before = Diagnostics.errors.count
        let stack = genericStack()
        _ = tlsClient(on: stack, keys: defaultConsole, file: "config.swift", line: 7)
        _ = tlsClient(on: stack, keys: crunch("anchors"), trustAnchors: "", wallClock: defaultClock, file: "config.swift", line: 8)
        let errors = Array(Diagnostics.errors.dropFirst(before))
        Diagnostics.errors.removeLast(errors.count)
        let text = errors.joined(separator: "\n")
        XCTAssert(text.contains("config.swift:7: error: tlsClient(keys:) needs a key-value store, not a console"), text)
        XCTAssert(text.contains("config.swift:8: error: tlsClient(wallClock:) needs a wall clock, not a clock"), text)
        XCTAssert(text.contains("config.swift:8: error: tlsClient(trustAnchors:) has \"\", which is not a key of a store"), text)
        XCTAssertEqual(errors.count, 3, text)
    }
}
