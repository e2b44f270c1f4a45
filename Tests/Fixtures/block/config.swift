import MirageConfig

// Reads and writes a disk through the board's block device: virtio-blk on
// virt and vexpress-a9, the SD card host on the Cubieboard. (Tests/Fixtures/
// sd-card runs the same job on vexpress-a9's PL181 SD card.)
let main = Job("BlockCheck", needs: .console, .block)

register("block", main(defaultConsole, disk("data", image: "data.img", size: .mebibytes(1), create: true)))
