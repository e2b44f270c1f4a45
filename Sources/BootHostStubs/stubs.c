/*
 * Host stand-ins for the C and assembly of Sources/Boot/Start, so that the
 * runtime's Swift builds and runs in `swift test`. None of them touches
 * hardware: the clock is the host's monotonic clock, the "DMA region" is a
 * static buffer, exiting exits the test process.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

void boot_exit_c(int status) { exit(status); }
void boot_cpu_relax(void) {}
int boot_in_ram(uintptr_t address, uintptr_t size) { (void)address; (void)size; return 0; }
intptr_t boot_reserved_dtb_address(void) { return 0; }

uint32_t boot_cntfrq(void) { return 1000000000u; }
uint64_t boot_cntpct(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint32_t boot_dfar(void) { return 0; }
uint32_t boot_dfsr(void) { return 0; }
uint32_t boot_ifar(void) { return 0; }
void boot_memory_barrier(void) { __sync_synchronize(); }
int boot_stack_guard(uint32_t address) { (void)address; return -1; }

static _Alignas(4096) unsigned char dma_region[1 << 20];
intptr_t boot_dma_start(void) { return (intptr_t)dma_region; }
intptr_t boot_dma_end(void) { return (intptr_t)(dma_region + sizeof dma_region); }
void boot_wait_for_interrupt(void) {}
void boot_cntp_arm(uint64_t compare) { (void)compare; }
void boot_cntp_disarm(void) {}
uint32_t boot_cycles(void) { return 0; }

/* Nothing is embedded in the host build. */
const unsigned long *boot_embedded_table(void) { return 0; }
