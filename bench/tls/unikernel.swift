/// Each secret-keyed operation of the TLS crypto, run with two different
/// secrets (after a first run that warms the heap's free lists): the guest
/// instructions each took, counted by the PMU under QEMU's -icount. Code
/// that branched or looped on a secret's bits would count differently for
/// the two, by hundreds or thousands of instructions over a 256-bit scalar;
/// the bench fails if the two counts differ by more than 64. They are not
/// exactly equal even for one secret run twice (3 to 18 instructions apart,
/// measured): the heap hands out blocks whose alignment sends memcpy down
/// different paths. (Equal counts cannot show that no memory index depends
/// on a secret; each file says how it keeps that, and none uses a table.)
struct TLSBench {
    static func start(console: some Console, tls _: some TLSServers) -> Int32 {
        let first = secret(1), second = secret(2)
        let message = [UInt8](repeating: 0x61, count: 64), record = [UInt8](repeating: 0x17, count: 16 * 1024)
        let nonce = [UInt8](repeating: 9, count: 12)
        let peer = P256.publicKey(privateKey: secret(3))
        var constant = true
        func measure(_ name: StaticString, _ operation: ([UInt8]) -> [UInt8]?) {
            _ = operation(first)
            _ = operation(second)
            // The fewest of four runs each, the secrets taking turns, in one
            // order and then the other: a timer interrupt that lands inside a
            // run adds its handler's instructions to that run only, and the
            // heap hands a run blocks by its place in the turn (their
            // alignment sends memcpy down other paths: up to 860 instructions
            // apart on a 16 KiB record, measured), so each secret gets each place.
            var counts: [UInt32] = [.max, .max]
            for round in 0..<4 {
                for index in round % 2 == 0 ? [0, 1] : [1, 0] {
                    let key = index == 0 ? first : second
                    let before = Runtime.instructions
                    _ = operation(key)
                    counts[index] = min(counts[index], Runtime.instructions &- before)
                }
            }
            let apart = max(counts[0], counts[1]) - min(counts[0], counts[1])
            if apart <= 64 {
                print("\(name): \(apart) apart for another secret, \(counts[0]) instructions")
            } else {
                print("\(name): NOT CONSTANT, \(counts[0]) and \(counts[1]) instructions for two secrets")
                constant = false
            }
        }
        measure("X25519 shared secret") { X25519.scalarMultiply(scalar: $0, uCoordinate: [9] + [UInt8](repeating: 0, count: 31)) }
        measure("X25519 public key") { X25519.publicKey(privateKey: $0) }
        measure("P-256 public key") { P256.publicKey(privateKey: $0) }
        measure("Ed25519 signature") { Ed25519.signature(for: message, privateKey: $0) }
        measure("P-256 shared secret") { P256.sharedSecret(privateKey: $0, peerPublicKey: peer) }
        measure("ECDSA P-256 signature") { ECDSAP256.signature(for: message, privateKey: $0) }
        measure("ChaCha20-Poly1305 16 KiB record") { ChaCha20Poly1305.seal(record, key: $0, nonce: nonce, additionalData: []) }
        measure("AES-128-GCM 16 KiB record") { AESGCM(key: Array($0.prefix(16))).seal(record, nonce: nonce, additionalData: []) }
        measure("AES-256-GCM 16 KiB record") { AESGCM(key: $0).seal(record, nonce: nonce, additionalData: []) }
        return constant ? 0 : 1
    }

    /// A fixed 32-byte secret, valid as a key for every operation here.
    static func secret(_ seed: UInt8) -> [UInt8] { (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 37 &+ Int(seed) &* 101) | 1 } }
}
