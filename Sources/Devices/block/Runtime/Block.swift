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
