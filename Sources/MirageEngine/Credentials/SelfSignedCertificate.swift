import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate and its private key for a development server
/// (`mirage-config tls self-signed`), made with swift-certificates and
/// swift-crypto: PEM files the tls-server driver reads from a store. The
/// certificate is a leaf (not a CA) for serverAuth, naming each host in
/// subjectAltName, so curl --cacert and the unikernel's own client accept it.
public struct SelfSignedCertificate {
    /// The signature the key makes: both kinds the unikernel's server signs with.
    public enum KeyKind: String, CaseIterable {
        case ed25519
        case p256 = "p-256"
    }

    public let certificatePEM: String
    public let privateKeyPEM: String

    /// The longest validity: CA/Browser Forum's old 825 days, far past any development use.
    public static let maximumDays = 825

    /// A new key of `kind` and a certificate for `names` (DNS names, `*.` wildcards, IP
    /// addresses; the first is also the subject's CN), valid from now for `days`.
    public init(names: [String], kind: KeyKind, days: Int, now: Date = Date()) throws {
        guard !names.isEmpty else { throw MirageError("a certificate needs a name", fix: "give --name localhost (repeatable)") }
        guard (1...Self.maximumDays).contains(days) else {
            throw MirageError("--days \(days) is out of range", fix: "give 1 to \(Self.maximumDays) days")
        }
        let alternativeNames = try names.map(Self.generalName)
        let key: Certificate.PrivateKey
        let algorithm: Certificate.SignatureAlgorithm
        switch kind {
        case .ed25519:
            key = Certificate.PrivateKey(Curve25519.Signing.PrivateKey())
            algorithm = .ed25519
        case .p256:
            key = Certificate.PrivateKey(P256.Signing.PrivateKey())
            algorithm = .ecdsaWithSHA256
        }
        let subject = try DistinguishedName { CommonName(names[0]) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(alternativeNames)
        }
        // A minute back, so that a peer whose clock is a little behind accepts it at once.
        let start = now.addingTimeInterval(-60)
        let certificate = try Certificate(version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                                          notValidBefore: start, notValidAfter: start.addingTimeInterval(Double(days) * 86400),
                                          issuer: subject, subject: subject, signatureAlgorithm: algorithm,
                                          extensions: extensions, issuerPrivateKey: key)
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        privateKeyPEM = try key.serializeAsPEM().pemString + "\n"
    }

    /// `name` as subjectAltName carries it: an IP address, or a DNS name of
    /// letters, digits and hyphens (RFC 1123), whose leftmost label may be `*`.
    static func generalName(_ name: String) throws -> GeneralName {
        if let address = KeyFormat.ipv4(name).map({ v4 in (0..<4).map { UInt8(truncatingIfNeeded: v4 >> (24 - 8 * $0)) } }) ?? KeyFormat.ipv6Bytes(name) {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(address)))
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let isLabel = { (label: Substring) in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
        let wildcard = labels.count >= 3 && labels[0] == "*"
        guard name.utf8.count <= 253, labels.dropFirst(wildcard ? 1 : 0).allSatisfy(isLabel) else {
            throw MirageError("'\(name)' is not a host name or an IP address",
                              fix: "give a DNS name (letters, digits and hyphens in dot-separated labels, e.g. localhost or www.example.test; "
                                  + "*.example.test for every name under it) or an address such as 127.0.0.1 or ::1")
        }
        return .dnsName(name)
    }

    /// Writes server.pem and server.key (or the names given) into `folder`,
    /// never over files already there: a key may be in use. The key is
    /// readable by its owner only.
    public func write(to folder: URL, certificateFile: String = "server.pem", keyFile: String = "server.key") throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files = [folder.appendingPathComponent(certificateFile), folder.appendingPathComponent(keyFile)]
        for file in files where FileManager.default.fileExists(atPath: file.path) {
            throw MirageError("\(displayPath(file.path)) exists; nothing was written", fix: "remove it, or give another folder with -o")
        }
        try Data(certificatePEM.utf8).write(to: files[0], options: .withoutOverwriting)
        guard FileManager.default.createFile(atPath: files[1].path, contents: Data(privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            try? FileManager.default.removeItem(at: files[0])
            throw MirageError("cannot write \(displayPath(files[1].path))")
        }
        return files
    }
}
