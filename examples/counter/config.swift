import MirageConfig

// A visit counter on a read-write key-value store: each boot reads the count,
// adds one and writes it back, durably. The job writes, so it takes a
// `.kvWriter`: config.swift cannot give it a read-only store (crunch, a tar
// archive), which would be refused here, at configure time, naming the line.
// A blank disk is formatted as littlefs; littlefs itself (littlefs-python,
// `mirage-config kv get data.lfs visits`) reads what the unikernel wrote.
let main = Job("Counter", needs: .console, .kvWriter)

register("counter", main(defaultConsole, littlefsStore(on: disk("data", image: "data.lfs", size: .mebibytes(1), create: true))))
