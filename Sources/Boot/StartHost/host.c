/*
 * The host's counterpart of the C and assembly of Sources/Boot/Start: what
 * the runtime's Swift calls, on a Linux process instead of a board. Two
 * programs use it: `swift test` (the runtime's unit tests) and the host
 * target's unikernels (`--target host`, with main.c). None of it touches
 * hardware: the clock is the host's monotonic clock, the "DMA region" is a
 * static buffer, exiting exits the process.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

/* The device tree the host program boots with (main.c); none in a test. */
const void *boot_host_device_tree;

/* The runtime stopped the unikernel (Runtime.fatal, Runtime.exit). A host
   program ends with the job's status, its console flushed; a unit test
   says so, as nothing else may have printed anything. */
void boot_exit_c(int status) {
    if (!boot_host_device_tree) fprintf(stderr, "Boot runtime: boot_exit(%d) ends the host process\n", status);
    exit(status);
}
void boot_cpu_relax(void) {}
int boot_in_ram(uintptr_t address, uintptr_t size) { (void)address; (void)size; return 0; }
intptr_t boot_reserved_dtb_address(void) { return (intptr_t)boot_host_device_tree; }

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
/* The host program's "cycle counter": nanoseconds since main() began (the
   program's reset), so that `run --timings` says how long the start took, as
   QEMU's 1 GHz counter does on a board; 0 in a unit test, which has no main. */
uint64_t boot_host_start_nanoseconds;
uint32_t boot_cycles(void) {
    return boot_host_start_nanoseconds ? (uint32_t)(boot_cntpct() - boot_host_start_nanoseconds) : 0;
}
uint32_t boot_instructions(void) { return 0; }
/* The host's allocations are libc's, not counted. */
uint64_t boot_heap_allocations(void) { return 0; }

/* Data `mirage-config build` embeds (the kv-crunch store's archives): the
   generated _build/embedded.S's table of {name, start, end} words, or none
   (a unit test, an image that embeds nothing). */
extern const unsigned long mirage_embedded_table[] __attribute__((weak));
static const unsigned long no_embedded_entries[3] = {0, 0, 0};
const unsigned long *boot_embedded_table(void) {
    return mirage_embedded_table ? mirage_embedded_table : no_embedded_entries;
}

/* Tasks: the same scheduler runs on the host over ucontext, its stacks in
   a region reserved with mmap, guard pages made inaccessible with mprotect. */
size_t boot_context_size(void) { return (sizeof(ucontext_t) + 15) & ~(size_t)15; }

void boot_context_prepare(void *context, uintptr_t base, size_t size, void (*entry)(void)) {
    ucontext_t *task = context;
    getcontext(task);
    task->uc_stack.ss_sp = (void *)base;
    task->uc_stack.ss_size = size;
    task->uc_link = 0;
    makecontext(task, entry, 0);
}

void boot_context_switch(void *save, void *load) { swapcontext(save, load); }

#define HOST_TASK_STACKS ((size_t)1 << 30)
static char *task_stacks;
static char *host_task_stacks(void) {
    if (!task_stacks) {
        void *region = mmap(0, HOST_TASK_STACKS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (region == MAP_FAILED) abort();
        task_stacks = region;
    }
    return task_stacks;
}
intptr_t boot_task_stacks_start(void) { return (intptr_t)host_task_stacks(); }
intptr_t boot_task_stacks_end(void) { return (intptr_t)(host_task_stacks() + HOST_TASK_STACKS); }
void boot_page_unmap(uintptr_t address) { mprotect((void *)(address & ~(uintptr_t)4095), 4096, PROT_NONE); }
/* Swift built for debugging uses far more stack than the optimised ARM image. */
size_t boot_task_stack_minimum(void) { return 256 * 1024; }

/* The host events' sleep (Sources/Devices/interrupt-controller/Drivers/host-events):
   ppoll on `descriptors` for at most `nanoseconds`, as the loop's `wfi`. */
#include <poll.h>
int boot_host_poll(struct pollfd *descriptors, unsigned long count, uint64_t nanoseconds) {
    struct timespec limit = { .tv_sec = (time_t)(nanoseconds / 1000000000u), .tv_nsec = (long)(nanoseconds % 1000000000u) };
    return ppoll(descriptors, (nfds_t)count, &limit, 0);
}

/* The host-ethernet driver's TAP (Sources/Devices/network/Drivers/host-ethernet):
   the interface NAME, which must exist, as raw Ethernet frames; -1 if not. */
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
int boot_host_open_tap(const char *name) {
    struct ifreq request;
    if (strlen(name) >= IFNAMSIZ) return -1;
    int descriptor = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (descriptor < 0) return -1;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    strcpy(request.ifr_name, name);
    if (ioctl(descriptor, TUNSETIFF, &request) < 0) {
        close(descriptor);
        return -1;
    }
    return descriptor;
}
