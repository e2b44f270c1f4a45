// Block devices: a disk image on the host that the unikernel reads and
// writes in sectors, through the board's virtio-blk or SD card host.

extension DeviceType {
    /// A disk of 512-byte sectors.
    public static let block = DeviceType("block")
}

/// The size of a disk image, a whole number of 512-byte sectors.
public struct DiskSize: Hashable, Sendable {
    public let bytes: Int

    public static func bytes(_ count: Int) -> DiskSize { DiskSize(bytes: count) }
    public static func kibibytes(_ count: Int) -> DiskSize { DiskSize(bytes: count * 1024) }
    public static func mebibytes(_ count: Int) -> DiskSize { DiskSize(bytes: count * 1024 * 1024) }
}

/// A disk: the board's block device (virtio-blk on a virtio-mmio transport
/// on virt and vexpress-a9, the SD card host on the Cubieboard), or the one
/// `driver` names (`"pl181"`: vexpress-a9's SD card). `run` attaches `image`
/// (relative to config.swift's folder), or the file given as
/// `run --disk NAME=FILE`; with `create: true` it makes a missing image of
/// `size`, zero-filled.
public func disk(_ name: String = "disk", image: String? = nil, size: DiskSize? = nil, create: Bool = false,
                 driver: String? = nil, file: String = #filePath, line: Int = #line) -> Device {
    let location = SourceLocation(file: file, line: line)
    if let size, size.bytes <= 0 || size.bytes % 512 != 0 {
        Diagnostics.error("a disk's size is a positive whole number of 512-byte sectors, not \(size.bytes) bytes",
                          at: location, fix: "size: .mebibytes(N), or .kibibytes(N) with N even")
    }
    if create && size == nil {
        Diagnostics.error("the disk '\(name)' has create: true but no size to create it with", at: location,
                          fix: "add size: .mebibytes(N)")
    }
    if let image, image.isEmpty || image.contains("\0") || image.contains("\n") {
        Diagnostics.error("the disk '\(name)' has image \(String(reflecting: image)), which is not a file name", at: location,
                          fix: "name the disk image file, relative to config.swift's folder")
    }
    if create && image == nil {
        Diagnostics.error("the disk '\(name)' has create: true but no image to create", at: location,
                          fix: "add image: \"\(name).img\"")
    }
    var parameters: [String: String] = [:]
    parameters["image"] = image
    parameters["size"] = size.map { String($0.bytes) }
    if create { parameters["create"] = "true" }
    return Device(.block, name: name, implementation: driver.map { .driver($0) } ?? .boardDefault,
                  arguments: [defaultClock, defaultInterruptController], parameters: parameters, location: location)
}
