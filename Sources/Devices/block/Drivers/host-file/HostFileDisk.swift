import Glibc

/// The host target's block device: a disk image file, read and written with
/// pread and pwrite, flushed with fdatasync. A file that cannot be written
/// is a read-only disk; no file is a disk with no medium, as a virtio-blk
/// transport with nothing attached.
///
/// `--mirage.fail-writes-after.NAME=N` makes every write after the N-th
/// fail, as QEMU's blkdebug does for `run --fail-writes-after`: the crash
/// tests' disk that stops. `--mirage.log-writes.NAME=LOG` records every
/// write and flush in LOG in dm-log-writes' format, as QEMU's blklogwrites
/// does for `run --log-writes`, for the crash tests to replay.
public final class HostFileDisk: BlockDevice {
    public let geometry: BlockGeometry
    let descriptor: Int32
    /// Writes left before the disk stops taking them; nil: never stops.
    var writesLeft: Int?
    let log: WriteLog?

    /// `file`, `failWritesAfter` and `logWrites` name the boot arguments
    /// that give the file, the failing write and the write log.
    public init(tree: DeviceTree, file: StaticString, failWritesAfter: StaticString, logWrites: StaticString) {
        let arguments = tree.bootArguments
        writesLeft = arguments.value(for: failWritesAfter).flatMap { Int(bootArgument: $0) }
        log = arguments.value(for: logWrites).map { WriteLog(path: String(decoding: $0, as: UTF8.self)) }
        guard let bytes = arguments.value(for: file), !bytes.isEmpty, !bytes.contains(0) else {
            descriptor = -1
            geometry = BlockGeometry(sectorSize: 512, sectorCount: 0, isReadOnly: true)
            return
        }
        let path = String(decoding: bytes, as: UTF8.self)
        var readOnly = false
        var opened = open(path, O_RDWR | O_CLOEXEC)
        if opened < 0 {
            opened = open(path, O_RDONLY | O_CLOEXEC)
            readOnly = true
        }
        guard opened >= 0 else {
            Runtime.fatal("cannot open the disk image ", text: path)
        }
        descriptor = opened
        let size = lseek(opened, 0, SEEK_END)
        geometry = BlockGeometry(sectorSize: 512, sectorCount: UInt64(max(0, size)) / 512, isReadOnly: readOnly)
    }

    public func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: false) { throw problem }
        try transfer(sector: sector, count: buffer.count) { done, offset in pread(descriptor, buffer.baseAddress! + done, buffer.count - done, offset) }
    }

    public func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: true) { throw problem }
        if let left = writesLeft {
            guard left > 0 else { throw .deviceError }
            writesLeft = left - 1
        }
        try transfer(sector: sector, count: buffer.count) { done, offset in pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, offset) }
        log?.record(sector: sector, buffer)
    }

    /// Moves `count` bytes at `sector` with `call(done, fileOffset)` (pread
    /// or pwrite), going on after a short or interrupted transfer.
    func transfer(sector: UInt64, count: Int, _ call: (Int, off_t) -> Int) throws(BlockError) {
        var done = 0
        while done < count {
            let moved = call(done, off_t(sector) * 512 + off_t(done))
            if moved < 0 && errno == EINTR { continue }
            guard moved > 0 else { throw .deviceError }
            done += moved
        }
        Counters.blockRequests &+= 1
        Counters.blockBytes &+= UInt64(count)
    }

    public func flush() throws(BlockError) {
        guard descriptor >= 0 else { throw .noMedium }
        guard fdatasync(descriptor) == 0 else { throw .deviceError }
        log?.recordFlush()
    }
}

/// A dm-log-writes log (Linux's dm-log-writes, QEMU's blklogwrites): a
/// superblock {magic, version 1, entries, sector size} in sector 0, then
/// per entry a sector {sector, sectors, flags, data length} and its data.
final class WriteLog {
    let descriptor: Int32
    var entries: UInt64 = 0
    var end: off_t = 512
    static let magic: UInt64 = 0x6A73_6677_7368_72
    static let flushFlag: UInt64 = 1

    init(path: String) {
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { Runtime.fatal("cannot create the write log ", text: path) }
        writeSuperblock()
    }

    func record(sector: UInt64, _ data: UnsafeRawBufferPointer) {
        append(sector: sector, sectors: UInt64(data.count / 512), flags: 0, data: data)
    }

    func recordFlush() { append(sector: 0, sectors: 0, flags: WriteLog.flushFlag, data: UnsafeRawBufferPointer(start: nil, count: 0)) }

    func append(sector: UInt64, sectors: UInt64, flags: UInt64, data: UnsafeRawBufferPointer) {
        var header = [UInt8](repeating: 0, count: 512)
        for (index, value) in [sector, sectors, flags, UInt64(data.count)].enumerated() { WriteLog.put(value, into: &header, at: index * 8) }
        write(header, at: end)
        end += 512
        if data.count > 0 {
            _ = pwrite(descriptor, data.baseAddress!, data.count, end)
            end += off_t(data.count)
        }
        entries += 1
        writeSuperblock()
    }

    func writeSuperblock() {
        var block = [UInt8](repeating: 0, count: 512)
        WriteLog.put(WriteLog.magic, into: &block, at: 0)
        WriteLog.put(1, into: &block, at: 8)
        WriteLog.put(entries, into: &block, at: 16)
        WriteLog.put(512, into: &block, at: 24)
        write(block, at: 0)
    }

    func write(_ bytes: [UInt8], at offset: off_t) {
        _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, offset) }
    }

    static func put(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}
