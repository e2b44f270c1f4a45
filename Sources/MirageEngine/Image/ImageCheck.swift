import Foundation

/// What a boot of the workspace's image relies on, checked before qemu, U-Boot
/// or an SD card gets it: the device tree configure wrote, and an image built
/// from the current configuration.
extension Workspace {
    /// The device tree configure wrote.
    func readDeviceTree() throws -> Data {
        let file = deviceTreeBlob
        guard let dtb = try? Data(contentsOf: file), DeviceTreeBlob.isValid(dtb) else {
            throw MirageError("\(displayPath(file.path)) is missing or not a valid device tree", fix: "run mirage-config configure again")
        }
        return dtb
    }

    /// The image must be the one built for this configuration: an image
    /// built for another board or other keys would boot wrongly, or hang.
    func checkImage(_ image: URL, against configuration: ResolvedConfiguration) throws {
        guard FileManager.default.fileExists(atPath: image.path) else {
            throw MirageError("no image \(displayPath(image.path))", fix: "run: mirage-config build")
        }
        let configuredManifest = try? Data(contentsOf: manifestFile)
        let imageManifest = try? ManifestNote.read(from: image)
        guard let configuredManifest, let imageManifest, imageManifest == configuredManifest else {
            let built = imageManifest.flatMap { try? JSONDecoder().decode(Manifest.self, from: $0) }
            let was = built.map { " (it was built for \($0.board.name) with the \($0.toolchain) toolchain)" } ?? ""
            throw MirageError("\(displayPath(image.path)) was not built from the current configuration for \(configuration.board)\(was)",
                              fix: "run: mirage-config build")
        }
    }
}
