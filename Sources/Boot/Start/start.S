/*
 * Reset and exception entry for ARMv7-A (Cortex-A8/A9/A15).
 *
 * The least assembly that can do: it sets a stack for every CPU mode, turns
 * the FPU on (Swift's generated code uses VFP/NEON, and the FPU is off at
 * reset), clears .bss and calls boot_main() in C/Swift. Everything it needs
 * to know about memory comes from symbols that the generated linker script
 * defines, so this file is the same on every board.
 */
    .syntax unified
    .arm

    .section .text.vectors, "ax"
    .balign 32
    .global boot_vectors
boot_vectors:
    b   _start
    b   vector_undefined
    b   vector_supervisor_call
    b   vector_prefetch_abort
    b   vector_data_abort
    b   vector_reserved
    b   vector_irq
    b   vector_fiq

    .section .text.start, "ax"
    .global _start
    .type _start, %function
_start:
    cpsid   aif
    /* Start the PMU cycle counter first of all, so the time to the job is
       counted from reset: PMCR.E and PMCR.C (reset it), PMCNTENSET bit 31. */
    mrc     p15, 0, r0, c9, c12, 0
    orr     r0, r0, #5
    mcr     p15, 0, r0, c9, c12, 0
    mov     r0, #0x80000000
    mcr     p15, 0, r0, c9, c12, 1
    /* A Linux-style loader (U-Boot's bootm, qemu with a raw image) passes the
       device tree's address in r2; qemu's ELF loader passes 0. Keep it. */
    mov     r4, r2

    ldr     r0, =boot_vectors
    mcr     p15, 0, r0, c12, c0, 0          /* VBAR */

    /* One stack per exception mode, each sized by memory.stacks in targets/BOARD.yaml. */
    cps     #0x11                           /* FIQ */
    ldr     sp, =__stack_fiq_top
    cps     #0x12                           /* IRQ */
    ldr     sp, =__stack_irq_top
    cps     #0x17                           /* Abort */
    ldr     sp, =__stack_abt_top
    cps     #0x1B                           /* Undefined */
    ldr     sp, =__stack_und_top
    cps     #0x13                           /* Supervisor: the unikernel runs here */
    ldr     sp, =__stack_svc_top

    /* FPU: full access to cp10/cp11, then FPEXC.EN. Before any C or Swift. */
    mrc     p15, 0, r0, c1, c0, 2
    orr     r0, r0, #(0xF << 20)
    mcr     p15, 0, r0, c1, c0, 2
    isb
    mov     r0, #0x40000000
    vmsr    fpexc, r0

    /* Clear .bss (word aligned by the linker script). */
    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    mov     r2, #0
1:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     1b

    /* Identity map, caches on (support.c): RAM cached, DMA region uncached. */
    bl      boot_mmu_enable

    mov     r0, r4
    bl      boot_main
    bl      boot_exit_c                     /* boot_main returns the exit status */
2:  wfi
    b       2b
    .size _start, . - _start

/*
 * Exception entry: build a frame of r0-r12, the faulting pc and the saved
 * CPSR on the mode's own stack and hand it to boot_fault(kind, frame), which
 * prints it and ends the unikernel with a non-zero status. Each vector saves
 * the registers and the kind; the rest is shared.
 */
    .macro exception_entry kind, pc_adjust
    sub     lr, lr, #\pc_adjust
    push    {r0-r12, lr}
    mov     r0, #\kind
    b       exception_report
    .endm

vector_undefined:        exception_entry 1, 4
vector_supervisor_call:  exception_entry 2, 0
vector_prefetch_abort:   exception_entry 3, 4
vector_data_abort:       exception_entry 4, 8
vector_reserved:         exception_entry 5, 0
vector_irq:              exception_entry 6, 4
vector_fiq:              exception_entry 7, 4

exception_report:
    mrs     r1, spsr
    push    {r1}
    mov     r1, sp
    bl      boot_fault
3:  wfi
    b       3b

    .ltorg
