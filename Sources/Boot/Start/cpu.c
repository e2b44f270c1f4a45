/*
 * The few CPU operations Swift cannot express: semihosting exit, coprocessor
 * registers (generic timer, fault addresses), barriers, and the regions the
 * generated linker script defines. The MMU is set up in mmu.c.
 */
#include <stddef.h>
#include <stdint.h>

/* ---- CPU ------------------------------------------------------------- */

/* ARM semihosting SYS_EXIT_EXTENDED: qemu ends with this status. On real
   hardware the call traps to our SVC vector instead, which halts. In ARM
   state, where the semihosting call is `svc 0x123456`; the rest of the image
   is Thumb-2. */
__attribute__((target("arm")))
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

/* Whether [address, address + size) lies in RAM: a device tree pointer from
   a boot loader is checked before it is read. */
int boot_in_ram(uintptr_t address, uintptr_t size) {
    return address >= (uintptr_t)__ram_start && size <= (uintptr_t)__ram_end - address;
}

/* Sleeps until an interrupt is pending. IRQs stay masked in the CPSR: wfi
   wakes on a pending one all the same, and the caller dispatches it. */
void boot_wait_for_interrupt(void) { __asm__ volatile("dsb; wfi" ::: "memory"); }

/* The generic timer's physical alarm: CNTP_CVAL (64-bit compare) and
   CNTP_CTL (bit 0 enable, bit 1 interrupt mask). */
void boot_cntp_arm(uint64_t compare) {
    __asm__ volatile("mcrr p15, 2, %0, %1, c14" :: "r"((uint32_t)compare), "r"((uint32_t)(compare >> 32)));
    __asm__ volatile("mcr p15, 0, %0, c14, c2, 1; isb" :: "r"(1u));
}
void boot_cntp_disarm(void) { __asm__ volatile("mcr p15, 0, %0, c14, c2, 1; isb" :: "r"(0u)); }

/* The PMU cycle counter that start.S started at reset (PMCCNTR). */
uint32_t boot_cycles(void) { uint32_t cycles; __asm__ volatile("isb; mrc p15, 0, %0, c9, c13, 0" : "=r"(cycles)); return cycles; }

/* PMU event counter 0 on INST_RETIRED (event 0x08), set up at the first
   call: the guest's own instructions, idle time excluded. QEMU counts the
   event under -icount only, which makes it a figure no machine's speed
   changes (the instruction-count regression test). */
uint32_t boot_instructions(void) {
    static int counting;
    if (!counting) {
        __asm__ volatile("mcr p15, 0, %0, c9, c12, 5; isb" :: "r"(0u));      /* PMSELR: counter 0 */
        __asm__ volatile("mcr p15, 0, %0, c9, c13, 1; isb" :: "r"(0x08u));   /* PMXEVTYPER: INST_RETIRED */
        __asm__ volatile("mcr p15, 0, %0, c9, c12, 1; isb" :: "r"(1u));      /* PMCNTENSET: counter 0 */
        counting = 1;
    }
    uint32_t count;
    __asm__ volatile("mcr p15, 0, %1, c9, c12, 5; isb; mrc p15, 0, %0, c9, c13, 2" : "=r"(count) : "r"(0u));
    return count;
}
