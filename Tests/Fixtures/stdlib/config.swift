import MirageConfig

// Ordinary Swift in a unikernel: collections, string comparison and hashing,
// Unicode, floating point, 64-bit arithmetic, random numbers and print.
// Set and Dictionary seed their hashing from the entropy device.
let main = Job("Stdlib", needs: .console, .entropy)

register("stdlib", main(defaultConsole, defaultEntropy))
