import MirageConfig

// One TLS server with two certificates on its disk: a client's server_name
// (SNI) chooses the certificate that names it, and a client with no name or
// an unknown one gets the first. The boot test's peer checks which one each
// client was given.
let connections = Key.boot("connections", doc: "Stop after greeting this many clients", default: 4, range: 1...100)

let stack = genericStack()
let keys = tarStore(on: disk("keys", image: "keys.tar"), name: "credentials")
let server = tlsServer(on: stack, keys: keys, certificates: [TLSCertificate("one.pem", privateKey: "one.key"),
                                                             TLSCertificate("two.pem", privateKey: "two.key")])

let main = Job("NamedServer", needs: .console, .stack, .tls, keys: [connections])

register("tls-sni", main(defaultConsole, stack, server))
