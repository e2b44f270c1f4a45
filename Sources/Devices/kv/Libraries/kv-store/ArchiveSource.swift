/// Where an archive's bytes are: in the image (crunch) or on a disk. The
/// store reads what it needs when asked and never copies the archive into RAM.
public protocol ArchiveSource: AnyObject {
    var byteCount: UInt64 { get }
    /// Fills `buffer` from `offset`; the range is inside `byteCount`.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(KeyValueError)
}

extension ArchiveSource {
    /// `count` bytes from `offset`.
    public func read(at offset: UInt64, count: Int) throws(KeyValueError) -> [UInt8] {
        try filledBytes(count: count) { buffer throws(KeyValueError) in try read(at: offset, into: buffer) }
    }
}

/// An archive in memory: the image's own data.
public final class MemoryArchive: ArchiveSource {
    let start: UnsafeRawPointer?
    public let byteCount: UInt64

    public init(start: UnsafeRawPointer?, count: Int) {
        self.start = start
        byteCount = start == nil ? 0 : UInt64(count)
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(KeyValueError) {
        guard let start, let destination = buffer.baseAddress else { return }
        guard offset <= byteCount, UInt64(buffer.count) <= byteCount - offset else { throw .corrupt }
        destination.copyMemory(from: start + Int(offset), byteCount: buffer.count)
    }
}

/// An archive on a block device, read sector by sector as needed.
public final class BlockArchive<Device: BlockDevice>: ArchiveSource {
    let device: Device
    public let byteCount: UInt64

    public init(device: Device) {
        self.device = device
        byteCount = device.geometry.bytes
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(KeyValueError) {
        guard offset <= byteCount, UInt64(buffer.count) <= byteCount - offset else { throw .corrupt }
        guard buffer.count > 0 else { return }
        let sectorSize = UInt64(device.geometry.sectorSize)
        let first = offset / sectorSize
        let end = (offset + UInt64(buffer.count) + sectorSize - 1) / sectorSize
        do throws(BlockError) {
            if offset % sectorSize == 0 && UInt64(buffer.count) % sectorSize == 0 {
                try device.read(sector: first, into: buffer)
                return
            }
            let sectors = try device.read(sector: first, count: Int(end - first))
            let skip = Int(offset - first * sectorSize)
            sectors.withUnsafeBytes { all in
                buffer.baseAddress!.copyMemory(from: all.baseAddress! + skip, byteCount: buffer.count)
            }
        } catch {
            throw .device(error)
        }
    }
}
