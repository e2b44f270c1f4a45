import ArgumentParser
import Foundation
import MirageEngine

struct FlashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Write an image (such as dist/NAME.sdcard.img) to an SD card, read it back and compare.",
        discussion: "Refuses a device that is mounted, one that is not removable, and one larger than any SD card, unless a flag that says the risk allows it. A plain file is written too (to keep or to attach to qemu)."
    )

    @Argument(help: "The image to write, e.g. dist/hello.sdcard.img (mirage-config image --format sdcard).")
    var image: String

    @Option(help: "The card's device (lsblk lists them), e.g. /dev/mmcblk0 or /dev/sdb; or a file.")
    var device: String

    @Flag(help: "Write to a device that does not say it is removable (it may be a disk of this machine).")
    var overwriteNonRemovableDisk = false

    @Flag(help: "Write to a device larger than any SD card.")
    var overwriteLargeDisk = false

    func run() throws {
        do {
            let imageURL = URL(fileURLWithPath: image)
            try requireReadableFile(imageURL, "the image to write")
            guard let size = (try? FileManager.default.attributesOfItem(atPath: imageURL.path)[.size]) as? UInt64 else {
                throw MirageError("no image \(image)", fix: "make one: mirage-config image --format sdcard")
            }
            let target = try Flash.Target.inspect(device)
            var imageInfo = stat(), targetInfo = stat()
            if stat(imageURL.path, &imageInfo) == 0, stat(device, &targetInfo) == 0,
               imageInfo.st_dev == targetInfo.st_dev, imageInfo.st_ino == targetInfo.st_ino {
                throw MirageError("\(device) is the image itself", fix: "name the card's device (lsblk lists them), or another file")
            }
            if let refusal = Flash.refusal(for: target, imageSize: size, overwriteNonRemovable: overwriteNonRemovableDisk,
                                           overwriteLarge: overwriteLargeDisk) {
                throw refusal
            }
            var shown = -1
            try Flash.write(imageURL, to: target) { written, total in
                let percent = Int(written * 100 / max(total, 1))
                if percent / 10 != shown / 10 || written == total {
                    shown = percent
                    Output.error("flash: \(percent)% (\(written) of \(total) bytes)")
                }
            }
            print("Wrote \(image) to \(device) (\(size) bytes), read it back: the same; synced.")
        } catch {
            fail(error)
        }
    }
}
