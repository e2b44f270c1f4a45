import MirageConfig

// The TLS crypto's instruction-count benchmark and constant-time check
// (InstructionCountTests boots it under QEMU's -icount): each secret-keyed
// operation run with two different secrets must take the same number of
// guest instructions. The tls device brings the crypto libraries into the
// image; its disk starts blank (an empty store: it says it has no
// certificate, and the bench never listens).
let stack = genericStack()
let keys = tarStore(on: disk("keys", image: "keys.tar", size: .kibibytes(64), create: true), name: "credentials")

let main = Job("TLSBench", needs: .console, .tls)

register("tls-bench", main(defaultConsole, tlsServer(on: stack, keys: keys)))
