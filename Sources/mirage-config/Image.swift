import ArgumentParser
import Foundation
import MirageEngine

struct Image: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the built image in a boot loader's format: the raw binary, or a U-Boot uImage with its device tree and boot script.",
        discussion: "uimage writes dist/NAME.uImage, NAME.dtb, boot.cmd (readable) and boot.scr (also as boot.scr.uimg, the name U-Boot's distro boot fetches over TFTP). sdcard writes dist/NAME.sdcard.img: the board's U-Boot with SPL at 8 KiB, an MBR and a FAT boot partition with boot.scr, the uImage and the DTB."
    )

    @OptionGroup var unikernel: UnikernelOptions

    @Option(help: "bin, uimage or sdcard.")
    var format: BootImage.Format = .uimage

    func run() throws {
        do {
            for file in try BootImage(workspace: try unikernel.workspace()).write(format) {
                let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
                print("\(displayPath(file.path))  \(size) bytes")
            }
        } catch {
            fail(error)
        }
    }
}

extension BootImage.Format: ExpressibleByArgument {}
