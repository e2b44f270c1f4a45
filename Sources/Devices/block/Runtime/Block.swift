/// A block device: a disk of fixed-size sectors (virtio-blk, an SD card).
/// Every failure comes back as a `BlockError` the caller can handle: a
/// missing disk, a read-only one, a request past its end, a device that
/// reports an error or does not answer. None of them stops the unikernel.
public protocol BlockDevice: AnyObject {
    /// Its size and whether it takes writes; zero sectors when no medium is attached.
    var geometry: BlockGeometry { get }
    /// Reads whole sectors from `sector` into `buffer`, whose size is a multiple of the sector size.
    func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockError)
    /// Writes whole sectors at `sector` from `buffer`, whose size is a multiple of the sector size.
    /// The data may sit in the device's cache until `flush()`.
    func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockError)
    /// Returns once every write it acknowledged is on stable storage.
    func flush() throws(BlockError)
    /// Reads whole sectors from `sector`, scattered: the bytes fill `pieces`
    /// in order. Their sizes add up to a whole number of sectors; a piece
    /// need not be one. A store puts each block's data straight where it
    /// belongs in a value and its header aside: a device that DMAs makes no
    /// copy at all (the default reads into one buffer and copies out).
    func read(sector: UInt64, scattering pieces: [UnsafeMutableRawBufferPointer]) throws(BlockError)
    /// Writes whole sectors at `sector` gathered from `pieces` in order, as `read(sector:scattering:)` reads them.
    func write(sector: UInt64, gathering pieces: [UnsafeRawBufferPointer]) throws(BlockError)
}

public struct BlockGeometry: Equatable {
    /// Bytes per sector (512 on every device here).
    public let sectorSize: Int
    public let sectorCount: UInt64
    public let isReadOnly: Bool

    public init(sectorSize: Int, sectorCount: UInt64, isReadOnly: Bool) {
        self.sectorSize = sectorSize
        self.sectorCount = sectorCount
        self.isReadOnly = isReadOnly
    }

    public var bytes: UInt64 { UInt64(sectorSize) * sectorCount }

    /// The error for a request of `length` bytes at `sector`, or nil if it fits.
    public func problem(sector: UInt64, length: Int, writing: Bool) -> BlockError? {
        if sectorCount == 0 { return .noMedium }
        if writing && isReadOnly { return .readOnly }
        guard length % sectorSize == 0 else { return .unaligned }
        let count = UInt64(length / sectorSize)
        guard sector <= sectorCount, count <= sectorCount - sector else { return .outOfRange }
        return nil
    }
}

public enum BlockError: Error, Equatable {
    /// No disk is attached.
    case noMedium
    case readOnly
    /// The request runs past the last sector.
    case outOfRange
    /// The buffer is not a whole number of sectors.
    case unaligned
    /// The device reported a failure.
    case deviceError
    /// The device did not answer in time.
    case timedOut

    /// What went wrong, for a message.
    public var reason: StaticString {
        switch self {
        case .noMedium: return "no medium"
        case .readOnly: return "read-only"
        case .outOfRange: return "past the end of the disk"
        case .unaligned: return "not a whole number of sectors"
        case .deviceError: return "device error"
        case .timedOut: return "device timed out"
        }
    }
}

/// How long a driver waits for a device to finish one request before giving up.
let blockRequestTimeout: UInt64 = 10_000_000_000

extension BlockDevice {
    public func read(sector: UInt64, scattering pieces: [UnsafeMutableRawBufferPointer]) throws(BlockError) {
        try readThroughOneBuffer(sector: sector, scattering: pieces)
    }

    public func write(sector: UInt64, gathering pieces: [UnsafeRawBufferPointer]) throws(BlockError) {
        try writeThroughOneBuffer(sector: sector, gathering: pieces)
    }

    /// A scattered read as one read into a buffer, copied out: the default,
    /// and a driver's way out for pieces it cannot hand the device.
    public func readThroughOneBuffer(sector: UInt64, scattering pieces: [UnsafeMutableRawBufferPointer]) throws(BlockError) {
        let total = BlockPieces.total(pieces)
        if let problem = geometry.problem(sector: sector, length: total, writing: false) { throw problem }
        let bytes = try read(sector: sector, count: total / geometry.sectorSize)
        bytes.withUnsafeBytes { source in BlockPieces.scatter(source, into: pieces) }
    }

    /// A gathered write as the pieces copied into one buffer, then one write.
    public func writeThroughOneBuffer(sector: UInt64, gathering pieces: [UnsafeRawBufferPointer]) throws(BlockError) {
        let total = BlockPieces.total(pieces)
        if let problem = geometry.problem(sector: sector, length: total, writing: true) { throw problem }
        try write(sector: sector, filledBytes(count: total) { buffer in BlockPieces.gather(pieces, into: buffer) })
    }

    /// `count` sectors from `sector`, as bytes.
    public func read(sector: UInt64, count: Int) throws(BlockError) -> [UInt8] {
        try filledBytes(count: count * geometry.sectorSize) { buffer throws(BlockError) in try read(sector: sector, into: buffer) }
    }

    /// Writes `bytes`, a whole number of sectors, at `sector`.
    public func write(sector: UInt64, _ bytes: [UInt8]) throws(BlockError) {
        var failure: BlockError?
        bytes.withUnsafeBytes { buffer in
            do throws(BlockError) { try write(sector: sector, from: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// The pieces of a scattered read or gathered write, and how a device cuts
/// them into requests it can take. Pure, so the host tests it.
public enum BlockPieces {
    /// A run of one piece's bytes: `length` bytes from `offset` in `pieces[piece]`.
    public struct Span: Equatable {
        public let piece: Int
        public let offset: Int
        public let length: Int
    }

    static func total(_ pieces: [UnsafeMutableRawBufferPointer]) -> Int { pieces.reduce(0) { $0 + $1.count } }
    static func total(_ pieces: [UnsafeRawBufferPointer]) -> Int { pieces.reduce(0) { $0 + $1.count } }

    /// Copies `source` into `pieces` in order, as far as it goes.
    public static func scatter(_ source: UnsafeRawBufferPointer, into pieces: [UnsafeMutableRawBufferPointer]) {
        var done = 0
        for piece in pieces where piece.count > 0 && done < source.count {
            let count = min(piece.count, source.count - done)
            piece.baseAddress!.copyMemory(from: source.baseAddress! + done, byteCount: count)
            done += count
        }
    }

    /// Copies `pieces` in order into `buffer`, as far as it goes.
    public static func gather(_ pieces: [UnsafeRawBufferPointer], into buffer: UnsafeMutableRawBufferPointer) {
        var done = 0
        for piece in pieces where piece.count > 0 && done < buffer.count {
            let count = min(piece.count, buffer.count - done)
            (buffer.baseAddress! + done).copyMemory(from: piece.baseAddress!, byteCount: count)
            done += count
        }
    }

    /// `lengths` (the pieces' sizes, a whole number of sectors in all) cut
    /// into requests of at most `maxSpans` spans and `maxBytes` bytes, each a
    /// whole number of sectors: a piece is split where a request must end.
    /// nil if some sector is spread over more than `maxSpans` pieces, which
    /// no request could take.
    public static func requests(_ lengths: [Int], sectorSize: Int, maxSpans: Int, maxBytes: Int) -> [[Span]]? {
        precondition(maxSpans > 0 && maxBytes >= sectorSize && maxBytes % sectorSize == 0, "a request must hold a sector")
        var requests: [[Span]] = []
        var spans: [Span] = [], bytes = 0
        var piece = 0, offset = 0
        while piece < lengths.count {
            if offset == lengths[piece] { piece += 1; offset = 0; continue }
            if spans.count == maxSpans || bytes == maxBytes {
                // End the request at its last whole sector; the rest starts the next.
                let kept = bytes - bytes % sectorSize
                guard kept > 0 else { return nil }
                var cut: [Span] = [], taken = 0
                for span in spans where taken < kept {
                    let length = min(span.length, kept - taken)
                    cut.append(Span(piece: span.piece, offset: span.offset, length: length))
                    taken += length
                }
                let end = cut[cut.count - 1]
                piece = end.piece; offset = end.offset + end.length
                requests.append(cut)
                spans = []; bytes = 0
                continue
            }
            let length = min(lengths[piece] - offset, maxBytes - bytes)
            spans.append(Span(piece: piece, offset: offset, length: length))
            bytes += length; offset += length
        }
        if !spans.isEmpty { requests.append(spans) }
        return requests
    }
}
