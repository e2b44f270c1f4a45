import MirageConfig

// The network stack's instruction-count benchmark (InstructionCountTests
// boots it under QEMU's -icount): two of the unikernel's own stacks in one
// guest, joined by a wire in memory, so that no host peer and no device
// sets the timing, and the count for the same transfer is the same on every
// run and machine. It holds the stack's cost (TCP, IP, Ethernet, checksums,
// copies, tasks), not the network device's: scripts/bench-network measures
// the whole path against Linux. The board's own stack is declared too, for
// its library (configure with --ip-mode ipv4: it stays quiet, its address
// static, while the two on the wire work).
let main = Job("StackBench", needs: .console, .clock, .entropy, .stack)

register("stack-bench", main(defaultConsole, defaultClock, defaultEntropy, genericStack()))
