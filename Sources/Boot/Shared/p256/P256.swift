/// NIST P-256 (SEC 2's secp256r1): y^2 = x^3 - 3x + b over the prime p, and
/// Diffie-Hellman on it (TLS 1.3's secp256r1 group, RFC 8446 section 4.2.8.2).
///
/// Constant time: points are projective and added by Renes, Costello and
/// Batina's complete formulas for a = -3 (2015, algorithm 4), which hold for
/// doubling and the identity too, so a scalar multiplication is the same 256
/// doublings and 64 additions for every scalar, each addend read from a
/// table of sixteen by masks (CompleteCurvePoint's fixed window, in
/// modular); the generator's multiples are a table made once. Field
/// arithmetic is Modulus256's. Decoding a peer's public key, and checking
/// it, handles public values only.
public enum P256 {
    static let field = Modulus256(bigEndianHex: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")
    static let order = Modulus256(bigEndianHex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
    /// b, in Montgomery form.
    static let b = field.toMontgomery(Modulus256.limbs(bigEndian: hexBytes("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b")))
    static let generator = P256Point(
        affineX: Modulus256.limbs(bigEndian: hexBytes("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")),
        y: Modulus256.limbs(bigEndian: hexBytes("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")))

    /// Whether 32 random bytes make a private key: a scalar from 1 to n - 1.
    /// (Drawing again until they do is what SEC 1 and FIPS 186 ask; the
    /// chance of a second draw is about 2^-32.)
    public static func isValidPrivateKey(_ key: [UInt8]) -> Bool {
        guard key.count == 32 else { return false }
        let scalar = Modulus256.limbs(bigEndian: key)
        return order.contains(scalar) && !Modulus256.isZero(scalar)
    }

    /// The generator's multiples, for key generation and signing (FixedBaseTable).
    static let generatorMultiples = FixedBaseTable(base: generator)

    /// The generator times a scalar, in constant time.
    static func generatorTimes(_ scalar: Limbs256) -> P256Point {
        generatorMultiples.multiplied(byNibbles: { P256Point.nibble($0, of: scalar) })
    }

    /// The uncompressed public key (0x04, x, y: 65 bytes) of a private key.
    public static func publicKey(privateKey: [UInt8]) -> [UInt8] {
        precondition(isValidPrivateKey(privateKey), "a P-256 private key is a scalar from 1 to n - 1")
        return generatorTimes(Modulus256.limbs(bigEndian: privateKey)).uncompressed!
    }

    /// The shared secret (the x-coordinate of the product, 32 bytes), or nil
    /// if the peer's key is not an uncompressed point on the curve.
    public static func sharedSecret(privateKey: [UInt8], peerPublicKey: [UInt8]) -> [UInt8]? {
        guard isValidPrivateKey(privateKey), let peer = P256Point(uncompressed: peerPublicKey) else { return nil }
        return peer.multiplied(by: Modulus256.limbs(bigEndian: privateKey)).affine.map { Modulus256.bigEndianBytes($0.x) }
    }
}

/// A point in projective coordinates (X : Y : Z), each in Montgomery form;
/// Z = 0 is the identity.
struct P256Point {
    var x: Limbs256, y: Limbs256, z: Limbs256

    static var identity: P256Point {
        P256Point(x: Limbs256(repeating: 0), y: P256.field.one, z: Limbs256(repeating: 0))
    }

    init(x: Limbs256, y: Limbs256, z: Limbs256) {
        self.x = x; self.y = y; self.z = z
    }

    /// The point with affine coordinates x, y (plain numbers below p).
    init(affineX x: Limbs256, y: Limbs256) {
        self.init(x: P256.field.toMontgomery(x), y: P256.field.toMontgomery(y), z: P256.field.one)
    }

    /// Decodes 0x04 || x || y, refusing coordinates not below p and points
    /// off the curve (which an invalid-curve attack would send).
    init?(uncompressed bytes: [UInt8]) {
        guard bytes.count == 65, bytes[0] == 4 else { return nil }
        let x = Modulus256.limbs(bigEndian: Array(bytes[1..<33])), y = Modulus256.limbs(bigEndian: Array(bytes[33..<65]))
        guard P256.field.contains(x), P256.field.contains(y) else { return nil }
        let field = P256.field
        let mx = field.toMontgomery(x), my = field.toMontgomery(y)
        // y^2 = x^3 - 3x + b
        let x3 = field.multiply(field.multiply(mx, mx), mx)
        let threeX = field.add(field.add(mx, mx), mx)
        let right = field.add(field.subtract(x3, threeX), P256.b)
        guard Modulus256.bigEndianBytes(field.multiply(my, my)) == Modulus256.bigEndianBytes(right) else { return nil }
        self.init(x: mx, y: my, z: field.one)
    }

    /// Affine coordinates as plain numbers; nil for the identity.
    var affine: (x: Limbs256, y: Limbs256)? {
        let field = P256.field
        guard !Modulus256.isZero(z) else { return nil }
        let inverse = field.inverse(z)
        return (field.fromMontgomery(field.multiply(x, inverse)), field.fromMontgomery(field.multiply(y, inverse)))
    }

    var uncompressed: [UInt8]? {
        affine.map { [4] + Modulus256.bigEndianBytes($0.x) + Modulus256.bigEndianBytes($0.y) }
    }

    /// The sum, by the complete formulas for a = -3 (Renes, Costello, Batina 2015, algorithm 4).
    static func + (p: P256Point, q: P256Point) -> P256Point {
        let f = P256.field
        func times3(_ v: Limbs256) -> Limbs256 { f.add(f.add(v, v), v) }
        let xx = f.multiply(p.x, q.x), yy = f.multiply(p.y, q.y), zz = f.multiply(p.z, q.z)
        let xy = f.subtract(f.multiply(f.add(p.x, p.y), f.add(q.x, q.y)), f.add(xx, yy))
        let yz = f.subtract(f.multiply(f.add(p.y, p.z), f.add(q.y, q.z)), f.add(yy, zz))
        let xz = f.subtract(f.multiply(f.add(p.x, p.z), f.add(q.x, q.z)), f.add(xx, zz))
        let u = times3(f.subtract(xz, f.multiply(P256.b, zz)))
        let yyMinusU = f.subtract(yy, u), yyPlusU = f.add(yy, u)
        let zz3 = times3(zz)
        let v = times3(f.subtract(f.multiply(P256.b, xz), f.add(zz3, xx)))
        let w = f.subtract(times3(xx), zz3)
        return P256Point(x: f.subtract(f.multiply(yyPlusU, xy), f.multiply(yz, v)),
                         y: f.add(f.multiply(yyPlusU, yyMinusU), f.multiply(w, v)),
                         z: f.add(f.multiply(yyMinusU, yz), f.multiply(xy, w)))
    }

    /// The point times a scalar (any 256-bit number), in constant time (CompleteCurvePoint's fixed window).
    func multiplied(by scalar: Limbs256) -> P256Point {
        multiplied(byNibbles: { P256Point.nibble($0, of: scalar) })
    }

    /// Nibble `index` of a scalar (0: the lowest).
    static func nibble(_ index: Int, of scalar: Limbs256) -> UInt32 { (scalar[index / 8] >> UInt32(index % 8 * 4)) & 0xF }
}

extension P256Point: CompleteCurvePoint {
    static func choose(_ first: P256Point, _ second: P256Point, take: UInt32) -> P256Point {
        let mask = 0 &- take
        return P256Point(x: Modulus256.select(first.x, second.x, mask: mask), y: Modulus256.select(first.y, second.y, mask: mask),
                         z: Modulus256.select(first.z, second.z, mask: mask))
    }
}
