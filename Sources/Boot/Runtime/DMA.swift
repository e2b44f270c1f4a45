import _Volatile

/// Allocates from the uncached DMA region the linker script reserves; never freed.
enum DMA {
    nonisolated(unsafe) static var next: UInt = 0

    static func allocate(_ size: UInt, alignment: UInt) -> UInt {
        if next == 0 { next = UInt(bitPattern: boot_dma_start()) }
        let start = (next + alignment - 1) & ~(alignment - 1)
        guard start + size <= UInt(bitPattern: boot_dma_end()) else {
            Runtime.fatal("the DMA region is full: raise memory.dma in targets/BOARD.yaml")
        }
        next = start + size
        // Zero it: rings must start empty.
        for offset in stride(from: 0, to: size, by: 4) { VolatileMappedRegister<UInt32>(unsafeBitPattern: start + offset).store(0) }
        return start
    }
}

@_extern(c) func boot_dma_start() -> Int
@_extern(c) func boot_dma_end() -> Int
