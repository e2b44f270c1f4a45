import ArgumentParser
import Foundation
import MirageEngine

/// `mirage-config tls`: credentials for the tls device.
struct TLS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Make credentials for tlsServer.",
        subcommands: [SelfSigned.self]
    )

    struct SelfSigned: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "self-signed",
            abstract: "Make a self-signed certificate (server.pem) and its private key (server.key) for development.",
            discussion: """
            The certificate names each --name in subjectAltName (the first is also its CN), is for \
            serverAuth and is no CA, so clients that are given it trust it: curl --cacert server.pem, \
            or the unikernel's tlsClient with it as the trust anchor. Files already in the folder are \
            never overwritten. Put both on the disk tlsServer(keys:) reads, e.g.
              tar --format=ustar -cf keys.tar -C DIR server.pem server.key
            """
        )

        @Option(name: .customLong("name"), help: "A host name (*.example.test covers one label) or IP address the certificate names (repeatable).")
        var names: [String] = []

        @Option(help: "The key: \(SelfSignedCertificate.KeyKind.allCases.map(\.rawValue).joined(separator: " or ")).")
        var key: String = SelfSignedCertificate.KeyKind.ed25519.rawValue

        @Option(help: "How many days it is valid, from now (1 to \(SelfSignedCertificate.maximumDays)).")
        var days: Int = 30

        @Option(name: .shortAndLong, help: "The folder to write server.pem and server.key in.")
        var output: String

        func run() throws {
            do {
                guard let kind = SelfSignedCertificate.KeyKind(rawValue: key.lowercased()) else {
                    throw MirageError("--key \(key) is not a key kind", fix: "give \(SelfSignedCertificate.KeyKind.allCases.map(\.rawValue).joined(separator: " or "))")
                }
                let made = try SelfSignedCertificate(names: names, kind: kind, days: days)
                for file in try made.write(to: URL(fileURLWithPath: output)) { print("wrote \(displayPath(file.path))") }
            } catch { fail(error) }
        }
    }
}
