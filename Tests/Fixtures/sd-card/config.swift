import MirageConfig

// The block check of Tests/Fixtures/block on SD cards: vexpress-a9's PL181
// (PIO), and the Allwinner SD hosts (DMA) of the Cubieboard and the Orange Pi
// PC, with SDSC and SDHC cards.
let card = Device.match(target: ["vexpress-a9": disk("card", driver: "pl181")], default: disk("card"))

let main = Job("BlockCheck", needs: .console, .block)

register("sd-card", main(defaultConsole, card))
