import MirageConfig

// Random numbers from every source the board has: virtio-rng (virt,
// vexpress-a9), the boot loader's /chosen/rng-seed (virt), CPU/timer jitter
// (every board). Keys: --entropy-policy strict|warn, --entropy-jitter true|false.
let main = Job("RandomBytes", needs: .console, .entropy)

register("entropy", main(defaultConsole, defaultEntropy))
