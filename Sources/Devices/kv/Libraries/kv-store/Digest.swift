extension KeyValueReader {
    /// BLAKE2s-256 of the value at `key`, as `b2sum -l 256` or Python's
    /// hashlib.blake2s prints it on the host: what every store but git's gives.
    public func digest(_ key: String) throws(KeyValueError) -> [UInt8] {
        BLAKE2s.hash(try get(key))
    }
}
