/*
 * The C symbols a freestanding Embedded Swift image needs, and the few CPU
 * operations Swift cannot express (coprocessor registers, semihosting).
 *
 * No libc is linked: memset/memcpy/memmove, the __aeabi_mem* helpers clang
 * emits, a heap (posix_memalign/free), stack-protector symbols and putchar
 * (which the Embedded stdlib's print() calls) are defined here.
 */
#include <stddef.h>
#include <stdint.h>

/* ---- memory ---------------------------------------------------------- */

void *memset(void *dst, int value, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)value;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) return dst;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        d += n; s += n;
        while (n--) *--d = *--s;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* ARM run-time ABI memory helpers (note: memset's argument order differs). */
void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memset(void *d, size_t n, int v) { memset(d, v, n); }
void __aeabi_memset4(void *d, size_t n, int v) { memset(d, v, n); }
void __aeabi_memset8(void *d, size_t n, int v) { memset(d, v, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }

/* ---- heap -------------------------------------------------------------
 * A first-fit free list over [__heap_start, __heap_end) from the linker
 * script. Blocks carry a one-word header (their size, low bit = in use);
 * freed neighbours are merged on the next walk. Simple and enough for a
 * single-core unikernel that allocates mostly at start-up.
 */
extern char __heap_start[], __heap_end[];

typedef struct block { size_t size; } block_t;   /* size includes the header */
static block_t *heap_first;
#define HEAP_IN_USE ((size_t)1)
#define HEAP_ALIGN 8u

void boot_fault_message(const char *message);

static void heap_init(void) {
    uintptr_t start = ((uintptr_t)__heap_start + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
    heap_first = (block_t *)start;
    heap_first->size = ((uintptr_t)__heap_end - start) & ~(size_t)(HEAP_ALIGN - 1);
}

static block_t *heap_next(block_t *b) { return (block_t *)((char *)b + (b->size & ~HEAP_IN_USE)); }
static int heap_contains(block_t *b) { return (char *)b < __heap_end; }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!heap_first) heap_init();
    if (alignment < HEAP_ALIGN) alignment = HEAP_ALIGN;
    if (alignment & (alignment - 1)) return 22; /* EINVAL */
    size_t need = (size + sizeof(block_t) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
    for (block_t *b = heap_first; heap_contains(b) && b->size; b = heap_next(b)) {
        if (b->size & HEAP_IN_USE) continue;
        /* merge following free blocks */
        for (block_t *n = heap_next(b); heap_contains(n) && n->size && !(n->size & HEAP_IN_USE); n = heap_next(b))
            b->size += n->size;
        uintptr_t payload = (uintptr_t)(b + 1);
        size_t pad = (alignment - (payload & (alignment - 1))) & (alignment - 1);
        if (pad && pad < sizeof(block_t) + HEAP_ALIGN) pad += alignment; /* room for a free block in front */
        if (b->size < need + pad) continue;
        if (pad) {                      /* split off the padding as a free block */
            block_t *aligned = (block_t *)((char *)b + pad);
            aligned->size = b->size - pad;
            b->size = pad;
            b = aligned;
        }
        if (b->size - need >= sizeof(block_t) + HEAP_ALIGN) {
            block_t *rest = (block_t *)((char *)b + need);
            rest->size = b->size - need;
            b->size = need;
        }
        b->size |= HEAP_IN_USE;
        *out = b + 1;
        return 0;
    }
    boot_fault_message("out of memory: the heap in the linker script is too small");
    return 12; /* ENOMEM, not reached */
}

void *malloc(size_t size) {
    void *p = 0;
    posix_memalign(&p, HEAP_ALIGN, size);
    return p;
}

void free(void *p) {
    if (!p) return;
    block_t *b = (block_t *)p - 1;
    b->size &= ~HEAP_IN_USE;
}

/* Bytes in use and free, for the unikernel's own reports. */
void boot_heap_usage(size_t *used, size_t *available) {
    if (!heap_first) heap_init();
    size_t u = 0, f = 0;
    for (block_t *b = heap_first; heap_contains(b) && b->size; b = heap_next(b)) {
        if (b->size & HEAP_IN_USE) u += b->size & ~HEAP_IN_USE; else f += b->size;
    }
    *used = u; *available = f;
}

/* ---- stack protector ------------------------------------------------- */

uintptr_t __stack_chk_guard = 0x5afe57ac;
void __stack_chk_fail(void) { boot_fault_message("stack smashing detected"); }

/* ---- console --------------------------------------------------------- */

/* Defined in Swift (Runtime/Console.swift): writes to the console driver
   the glue code attached, so that print() and fault reports reach it. */
void boot_console_write_byte(uint8_t byte);

int putchar(int c) {
    if (c == '\n') boot_console_write_byte('\r');
    boot_console_write_byte((uint8_t)c);
    return c;
}

int puts(const char *s) {
    while (*s) putchar(*s++);
    putchar('\n');
    return 0;
}

/* ---- CPU ------------------------------------------------------------- */

/* ARM semihosting SYS_EXIT_EXTENDED: qemu ends with this status. On real
   hardware the call traps to our SVC vector instead, which halts. */
void boot_exit_c(int status) {
    volatile uint32_t block[2] = { 0x20026 /* ADP_Stopped_ApplicationExit */, (uint32_t)status };
    register uint32_t r0 __asm__("r0") = 0x20;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) __asm__ volatile("wfi");
}

/* ARM generic timer (Cortex-A7/A15): CNTFRQ and CNTPCT. */
uint32_t boot_cntfrq(void) {
    uint32_t f;
    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(f));
    return f;
}

uint64_t boot_cntpct(void) {
    uint32_t lo, hi;
    __asm__ volatile("isb; mrrc p15, 0, %0, %1, c14" : "=r"(lo), "=r"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Fault address registers, for fault reports. */
uint32_t boot_dfar(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(v)); return v; }
uint32_t boot_ifar(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(v)); return v; }
uint32_t boot_dfsr(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(v)); return v; }

/* Wait for an event without burning the host CPU under qemu. */
void boot_cpu_relax(void) { __asm__ volatile("nop"); }

/* Regions the generated linker script defines. */
extern char __dtb_start[], __ram_start[], __ram_end[], __dma_start[], __dma_end[];

/* Where `run` loads the device tree when no boot loader passes one in r2. */
intptr_t boot_reserved_dtb_address(void) { return (intptr_t)__dtb_start; }

/* The uncached DMA region, for device rings. */
intptr_t boot_dma_start(void) { return (intptr_t)__dma_start; }
intptr_t boot_dma_end(void) { return (intptr_t)__dma_end; }

/* Orders memory accesses between the CPU and devices. */
void boot_memory_barrier(void) { __asm__ volatile("dmb" ::: "memory"); }

/* Square root for Swift's Double.squareRoot(): one VFP instruction. */
double sqrt(double x) {
    double root;
    __asm__("vsqrt.f64 %P0, %P1" : "=w"(root) : "w"(x));
    return root;
}

/* Whether [address, address + size) lies in RAM: a device tree pointer from
   a boot loader is checked before it is read. */
int boot_in_ram(uintptr_t address, uintptr_t size) {
    return address >= (uintptr_t)__ram_start && size <= (uintptr_t)__ram_end - address;
}

/* ---- MMU and caches --------------------------------------------------
 * An identity map of the 4 GiB address space in 1 MiB sections (ARMv7-A
 * short descriptors): RAM is normal memory, write-back cached; the DMA region
 * at the top of RAM is normal memory, uncached, so device rings need no cache
 * maintenance; everything else is device memory, never executed. With the MMU
 * off, all of memory would be strongly ordered: uncached, and faulting on
 * unaligned accesses on real hardware.
 */
extern uint32_t __page_table[4096];

#define SECTION           0x2u
#define SECTION_B         (1u << 2)
#define SECTION_C         (1u << 3)
#define SECTION_XN        (1u << 4)
#define SECTION_AP_RW     (3u << 10)       /* AP[1:0] = 11: read/write at every level */
#define SECTION_TEX(x)    ((uint32_t)(x) << 12)
#define SECTION_SHAREABLE (1u << 16)

#define MEMORY_DEVICE     (SECTION_B | SECTION_XN)                               /* shareable device */
#define MEMORY_CACHED     (SECTION_TEX(1) | SECTION_C | SECTION_B | SECTION_SHAREABLE) /* write-back, write-allocate */
#define MEMORY_UNCACHED   (SECTION_TEX(1) | SECTION_SHAREABLE)                    /* normal, non-cacheable */

/* The attributes of the 1 MiB section at `megabyte`. */
uint32_t boot_section_attributes(uint32_t megabyte) {
    uint32_t address = megabyte << 20;
    if (address >= (uint32_t)__dma_start && address < (uint32_t)__dma_end) return MEMORY_UNCACHED;
    if (address >= (uint32_t)__ram_start && address < (uint32_t)__ram_end) return MEMORY_CACHED;
    return MEMORY_DEVICE;
}

/* Invalidates the data and unified caches by set/way (ARM ARM B4.2.1), as
   they may hold garbage after reset on real hardware. */
static void invalidate_data_caches(void) {
    uint32_t clidr;
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 1" : "=r"(clidr));
    uint32_t levels = (clidr >> 24) & 7;                     /* level of coherence */
    for (uint32_t level = 0; level < levels; level++) {
        uint32_t type = (clidr >> (level * 3)) & 7;
        if (type < 2) continue;                              /* no data cache at this level */
        __asm__ volatile("mcr p15, 2, %0, c0, c0, 0; isb" :: "r"(level << 1));   /* CSSELR */
        uint32_t ccsidr;
        __asm__ volatile("mrc p15, 1, %0, c0, c0, 0" : "=r"(ccsidr));
        uint32_t line_shift = (ccsidr & 7) + 4;
        uint32_t ways = ((ccsidr >> 3) & 0x3FF) + 1;
        uint32_t sets = ((ccsidr >> 13) & 0x7FFF) + 1;
        uint32_t way_shift = (uint32_t)__builtin_clz(ways - 1 ? ways - 1 : 1);
        if (ways == 1) way_shift = 0;
        for (uint32_t way = 0; way < ways; way++)
            for (uint32_t set = 0; set < sets; set++) {
                uint32_t operand = (ways > 1 ? way << way_shift : 0) | (set << line_shift) | (level << 1);
                __asm__ volatile("mcr p15, 0, %0, c7, c6, 2" :: "r"(operand));   /* DCISW */
            }
    }
    __asm__ volatile("dsb; isb" ::: "memory");
}

/* Builds the identity map and turns on the MMU, caches and branch prediction.
   Called by start.S after .bss is cleared, before any Swift runs. */
void boot_mmu_enable(void) {
    for (uint32_t megabyte = 0; megabyte < 4096; megabyte++)
        __page_table[megabyte] = (megabyte << 20) | SECTION | SECTION_AP_RW | boot_section_attributes(megabyte);
    invalidate_data_caches();
    uint32_t zero = 0;
    __asm__ volatile(
        "mcr p15, 0, %0, c7, c5, 0\n"     /* ICIALLU: invalidate the instruction cache */
        "mcr p15, 0, %0, c7, c5, 6\n"     /* BPIALL: invalidate branch prediction */
        "mcr p15, 0, %0, c8, c7, 0\n"     /* TLBIALL */
        "mcr p15, 0, %0, c2, c0, 2\n"     /* TTBCR = 0: TTBR0 translates everything */
        "mcr p15, 0, %1, c2, c0, 0\n"     /* TTBR0: the table (walks uncached) */
        "mcr p15, 0, %2, c3, c0, 0\n"     /* DACR: domain 0 is a client, permissions apply */
        "dsb\n isb\n"
        :: "r"(zero), "r"((uint32_t)__page_table), "r"(1u) : "memory");
    uint32_t sctlr;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
    sctlr |= (1u << 0) | (1u << 2) | (1u << 11) | (1u << 12);   /* M, C, Z, I */
    sctlr &= ~((1u << 1) | (1u << 28) | (1u << 29));           /* no alignment faults, no TEX remap, no access flag */
    __asm__ volatile("mcr p15, 0, %0, c1, c0, 0\n isb" :: "r"(sctlr) : "memory");
}
