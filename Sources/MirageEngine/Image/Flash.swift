import Foundation

/// Writes an image to an SD card (or to a file), refusing the targets where
/// a slip would destroy something: a device that is mounted, one that is not
/// removable (a disk of the machine), or one larger than any SD card, unless
/// a flag whose name says the risk allows it. Shows progress, reads back
/// what it wrote and compares, and syncs.
public struct Flash {
    /// What the tool knows of a target, read from the system; a value, so the
    /// checks are unit tested without real devices.
    public struct Target {
        public let path: String
        public let isBlockDevice: Bool
        /// From /sys/block/NAME/removable; nil for a file.
        public let isRemovable: Bool?
        /// Bytes, for a block device.
        public let size: UInt64?
        /// Mount points of the device or any of its partitions.
        public let mountPoints: [String]

        /// Reads the target's facts from /sys and /proc/mounts.
        public static func inspect(_ path: String, mounts: String? = nil) throws -> Target {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw MirageError("\(path) does not exist", fix: "name the card's device (lsblk lists them), or a file to write")
            }
            let isBlock = (info.st_mode & S_IFMT) == S_IFBLK
            guard isBlock || (info.st_mode & S_IFMT) == S_IFREG else {
                throw MirageError("\(path) is neither a block device nor a file")
            }
            guard isBlock else { return Target(path: path, isBlockDevice: false, isRemovable: nil, size: nil, mountPoints: []) }
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().lastPathComponent
            let sys = "/sys/class/block/\(real)"
            func read(_ file: String) -> String? {
                (try? String(contentsOfFile: "\(sys)/\(file)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let sectors = read("size").flatMap { UInt64($0) }
            let table = mounts ?? (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
            // The device itself and its partitions (sdb1, mmcblk0p1, loop0p1).
            let points = table.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard fields.count > 1 else { return nil }
                let device = URL(fileURLWithPath: String(fields[0])).lastPathComponent
                return device == real || (device.hasPrefix(real) && device.dropFirst(real.count).allSatisfy { $0.isNumber || $0 == "p" })
                    ? String(fields[1]) : nil
            }
            return Target(path: path, isBlockDevice: true, isRemovable: read("removable").map { $0 == "1" },
                          size: sectors.map { $0 * 512 }, mountPoints: points)
        }
    }

    /// Larger than this is no SD card (the largest SDXC is 2 TiB; 256 GiB is far past any board's).
    public static let largestCard: UInt64 = 256 << 30

    /// What makes writing to `target` unsafe, given the flags that allow it.
    public static func refusal(for target: Target, imageSize: UInt64, overwriteNonRemovable: Bool, overwriteLarge: Bool) -> MirageError? {
        if !target.mountPoints.isEmpty {
            return MirageError("\(target.path) is mounted (\(target.mountPoints.joined(separator: ", "))): flashing it would corrupt what is mounted",
                               fix: "unmount it first: umount \(target.mountPoints.joined(separator: " "))")
        }
        if let size = target.size, size < imageSize {
            return MirageError("\(target.path) holds \(size) bytes, less than the image's \(imageSize)")
        }
        if target.isBlockDevice, target.isRemovable != true, !overwriteNonRemovable {
            return MirageError("\(target.path) is not a removable device: it may be a disk of this machine",
                               fix: "check with lsblk; if it really is the card (a USB reader may say otherwise), add --overwrite-non-removable-disk")
        }
        if let size = target.size, size > largestCard, !overwriteLarge {
            return MirageError("\(target.path) holds \(size >> 30) GiB, more than any SD card",
                               fix: "check with lsblk; if it really is the card, add --overwrite-large-disk")
        }
        return nil
    }

    /// Writes `image` to `target` in chunks, reporting progress, then syncs,
    /// reads it back and compares.
    public static func write(_ image: URL, to target: Target, progress: (UInt64, UInt64) -> Void) throws {
        let data = try Data(contentsOf: image)
        let total = UInt64(data.count)
        let descriptor = open(target.path, O_WRONLY | (target.isBlockDevice ? 0 : O_CREAT | O_TRUNC), 0o644)
        guard descriptor >= 0 else { throw MirageError("cannot open \(target.path) to write: \(String(cString: strerror(errno)))") }
        let chunk = 1 << 20
        var written = 0
        try data.withUnsafeBytes { bytes in
            while written < data.count {
                let count = Swift.min(chunk, data.count - written)
                let result = Foundation.write(descriptor, bytes.baseAddress! + written, count)
                guard result > 0 else {
                    close(descriptor)
                    throw MirageError("writing \(target.path) failed after \(written) bytes: \(String(cString: strerror(errno)))")
                }
                written += result
                progress(UInt64(written), total)
            }
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw MirageError("syncing \(target.path) failed: \(String(cString: strerror(errno)))")
        }
        sync()
        // Read back what is there now, not what a cache remembers.
        let reader = open(target.path, O_RDONLY)
        guard reader >= 0 else { throw MirageError("cannot read \(target.path) back") }
        defer { close(reader) }
        if target.isBlockDevice { _ = posix_fadvise(reader, 0, 0, POSIX_FADV_DONTNEED) }
        var back = Data(count: data.count)
        let read = back.withUnsafeMutableBytes { Foundation.read(reader, $0.baseAddress!, data.count) }
        guard read == data.count, back == data else {
            throw MirageError("\(target.path) does not hold what was written (read back \(read) bytes that differ)",
                              fix: "the card may be failing: try another")
        }
    }
}
