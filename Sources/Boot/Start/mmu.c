#include <stddef.h>
#include <stdint.h>

extern char __ram_start[], __ram_end[], __dma_start[], __dma_end[];
extern char __stacks_start[], __stacks_end[];
/* The guard page below each mode's stack (the linker script's order). */
extern char __stack_fiq_guard[], __stack_irq_guard[], __stack_abt_guard[], __stack_und_guard[], __stack_svc_guard[];
extern uint32_t __stack_page_tables[2][256];
/* The task stacks (tasks.c): 1 MiB aligned, each megabyte mapped by its own second-level table. */
extern char __task_stacks_start[], __task_stacks_end[];
extern uint32_t __task_page_tables[][256];

/* MMU and caches.
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

/* Sets the sections of the megabytes whose base addresses lie in [start, end) to `attributes`. */
static void map_sections(uint64_t start, uint64_t end, uint32_t attributes) {
    uint32_t first = (uint32_t)((start + 0xFFFFF) >> 20), last = (uint32_t)((end + 0xFFFFF) >> 20);
    for (uint32_t megabyte = first; megabyte < last && megabyte < 4096; megabyte++)
        __page_table[megabyte] = (megabyte << 20) | SECTION | SECTION_AP_RW | attributes;
}

/* Invalidates the level 1 data cache by set/way (ARM ARM B4.2.1), as it may
   hold garbage after a reset on real hardware (the Cortex-A9 does not clear
   it; the A15 and A7 do). The outer levels are left alone, as Linux's boot
   leaves them: the image is always started by a boot loader (U-Boot, or
   QEMU, which has no caches), and U-Boot cleans, disables and invalidates
   every level before it jumps to an OS. Walking the A15's 1 MiB L2 line by
   line was 262,000 instructions, half of what hello ran before its job. */
static void invalidate_data_caches(void) {
    uint32_t clidr;
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 1" : "=r"(clidr));
    uint32_t levels = (clidr >> 24) & 7;                     /* level of coherence */
    if (levels > 1) levels = 1;
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

/* Stack guards: the 4 KiB page below each stack is left unmapped, so that
   running off the bottom of a stack is a data abort at once, which the fault
   report names, instead of silently overwriting the stack below it. */
static char *const stack_guards[] = { __stack_fiq_guard, __stack_irq_guard, __stack_abt_guard, __stack_und_guard, __stack_svc_guard };
#define STACK_MODES (sizeof stack_guards / sizeof stack_guards[0])

/* Which mode's guard page holds `address`: 0 fiq, 1 irq, 2 abort, 3 undefined, 4 supervisor; -1 if none. */
int boot_stack_guard(uint32_t address) {
    for (unsigned mode = 0; mode < STACK_MODES; mode++) {
        uint32_t guard = (uint32_t)stack_guards[mode];
        if (address >= guard && address - guard < 4096) return (int)mode;
    }
    return -1;
}

#define PAGE_TABLE        0x1u                              /* first level: a coarse second-level table */
#define SMALL_PAGE        0x2u
#define PAGE_CACHED       ((1u << 6) | (1u << 3) | (1u << 2) | (1u << 10))   /* TEX=001 C B, shareable */
#define PAGE_AP_RW        (3u << 4)

/* Maps the megabytes that hold the stacks page by page, as cached RAM, but for the guards. */
static void map_stacks_by_page(void) {
    uint32_t first = (uint32_t)__stacks_start >> 20, last = ((uint32_t)__stacks_end - 1) >> 20;
    for (uint32_t megabyte = first; megabyte <= last && megabyte - first < 2; megabyte++) {
        uint32_t *table = __stack_page_tables[megabyte - first];
        for (uint32_t page = 0; page < 256; page++) {
            uint32_t address = (megabyte << 20) | (page << 12);
            table[page] = boot_stack_guard(address) >= 0 ? 0 : address | SMALL_PAGE | PAGE_AP_RW | PAGE_CACHED;
        }
        __page_table[megabyte] = (uint32_t)table | PAGE_TABLE;
    }
}

/* Maps the task stacks region page by page, every page present; the
   scheduler unmaps a guard page below each stack it hands out. */
static void map_task_stacks_by_page(void) {
    uint32_t first = (uint32_t)__task_stacks_start >> 20, end = (uint32_t)__task_stacks_end >> 20;
    for (uint32_t megabyte = first; megabyte < end; megabyte++) {
        uint32_t *table = __task_page_tables[megabyte - first];
        for (uint32_t page = 0; page < 256; page++)
            table[page] = (megabyte << 20) | (page << 12) | SMALL_PAGE | PAGE_AP_RW | PAGE_CACHED;
        __page_table[megabyte] = (uint32_t)table | PAGE_TABLE;
    }
}

/* Unmaps the 4 KiB page at `address` in the task stacks region (nothing
   elsewhere), and drops its translation from the TLB. */
void boot_page_unmap(uintptr_t address) {
    if (address < (uintptr_t)__task_stacks_start || address >= (uintptr_t)__task_stacks_end) return;
    uint32_t megabyte = (uint32_t)(address >> 20), first = (uint32_t)__task_stacks_start >> 20;
    __task_page_tables[megabyte - first][(address >> 12) & 0xFF] = 0;
    __asm__ volatile("dsb\n mcr p15, 0, %0, c8, c7, 1\n dsb\n isb" :: "r"((uint32_t)address & ~0xFFFu) : "memory");   /* TLBIMVA */
}

/* Builds the identity map and turns on the MMU, caches and branch prediction.
   Called by start.S after .bss is cleared, before any Swift runs. */
void boot_mmu_enable(void) {
    map_sections(0, 1ull << 32, MEMORY_DEVICE);
    map_sections((uint32_t)__ram_start, (uint32_t)__ram_end, MEMORY_CACHED);
    map_sections((uint32_t)__dma_start, (uint32_t)__dma_end, MEMORY_UNCACHED);
    map_stacks_by_page();
    map_task_stacks_by_page();
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
