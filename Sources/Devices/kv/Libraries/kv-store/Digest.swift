extension KeyValueReader {
    /// BLAKE2s-256 of the value at `key`: the same on every store, and the
    /// same as `b2sum -l 256` or Python's hashlib.blake2s on the host.
    public func digest(_ key: String) throws(KeyValueError) -> [UInt8] {
        BLAKE2s.hash(try get(key))
    }
}
