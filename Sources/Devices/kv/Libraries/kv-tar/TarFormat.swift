/// The ustar archive format (POSIX.1-1988, as GNU tar writes with
/// --format=ustar): each member is a 512-byte header and its data padded to
/// 512 bytes; two zero blocks end the archive. Pure functions over bytes,
/// unit tested and fuzzed on the host.
public enum TarFormat {
    public static let blockSize = 512

    /// One member of an archive.
    public struct Member: Equatable {
        /// Its path, without "./" or a trailing slash.
        public let key: String
        public let isDirectory: Bool
        /// Where its data starts in the archive.
        public let dataOffset: UInt64
        public let size: UInt64
    }

    public enum Header: Equatable {
        /// A zero block: the end of the archive.
        case end
        case member(Member)
        /// A member this reader does not serve (a link, a device, a GNU extension), skipped.
        case skipped(dataSize: UInt64)
    }

    /// Reads the header block `block` found at `offset`; `.corrupt` when its
    /// checksum or a field is wrong.
    public static func header(_ block: [UInt8], at offset: UInt64) throws(KeyValueError) -> Header {
        guard block.count == blockSize else { throw .corrupt }
        if block.allSatisfy({ $0 == 0 }) { return .end }
        // The checksum counts its own field as spaces.
        var sum: UInt32 = 0
        for (index, byte) in block.enumerated() { sum &+= (148..<156).contains(index) ? 32 : UInt32(byte) }
        guard let recorded = number(block[148..<156]), UInt64(sum) == recorded else { throw .corrupt }
        guard let size = number(block[124..<136]) else { throw .corrupt }
        let isUstar = block[257..<262].elementsEqual("ustar".utf8)
        var path = text(block[0..<100])
        if isUstar {
            let prefix = text(block[345..<500])
            if !prefix.isEmpty { path = prefix + "/" + path }
        }
        let type = block[156]
        let isFile = type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7")
        let isDirectory = type == UInt8(ascii: "5")
        guard isFile || isDirectory else { return .skipped(dataSize: type == UInt8(ascii: "1") || type == UInt8(ascii: "2") ? 0 : size) }
        let key = KeyPath.normalized(path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
        if key.isEmpty && isFile { throw .corrupt }
        if KeyPath.parts(key).contains(where: { $0 == ".." || $0 == "." }) { throw .corrupt }
        return .member(Member(key: key, isDirectory: isDirectory, dataOffset: offset + UInt64(blockSize),
                              size: isDirectory ? 0 : size))
    }

    /// The offset of the header after a member whose data starts at `dataOffset`.
    public static func next(afterDataAt dataOffset: UInt64, size: UInt64) -> UInt64 {
        dataOffset + (size + UInt64(blockSize) - 1) / UInt64(blockSize) * UInt64(blockSize)
    }

    /// An octal field (NUL- or space-terminated), or GNU's base-256 form
    /// (high bit of the first byte set) for sizes of 8 GiB and more.
    static func number(_ field: ArraySlice<UInt8>) -> UInt64? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value: UInt64 = UInt64(first & 0x7F)
            for byte in field.dropFirst() {
                guard value >> 56 == 0 else { return nil }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        var value: UInt64 = 0
        var digits = 0
        for byte in field {
            if byte == 0 || byte == 32 {
                if digits > 0 { break } else { continue }
            }
            guard byte >= 48 && byte <= 55, value >> 60 == 0 else { return nil }
            value = value * 8 + UInt64(byte - 48)
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// A NUL-terminated text field.
    static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
