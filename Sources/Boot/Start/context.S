/*
 * The task switch: the registers AAPCS says a call keeps (r4-r11, sp, lr and
 * the VFP registers d8-d15) saved where r0 points, loaded from where r1
 * points, and a return into the loaded task. A call to this function is a
 * call like any other for the compiler: everything else is caller-saved.
 *
 * Context layout (tasks.c prepares a new one): words 0-7 r4-r11, 8 sp, 9 lr,
 * then d8-d15 from byte 40. A new task's lr is its entry function, so the
 * first switch into it starts it (bx sets the Thumb state from bit 0).
 */
    .syntax unified
    .arm
    .fpu vfpv3-d16

    .section .text.boot_context_switch, "ax"
    .balign 4
    .global boot_context_switch
    .type boot_context_switch, %function
boot_context_switch:
    stmia   r0, {r4-r11}
    str     sp, [r0, #32]
    str     lr, [r0, #36]
    add     r0, r0, #40
    vstmia  r0, {d8-d15}
    ldmia   r1, {r4-r11}
    ldr     sp, [r1, #32]
    ldr     lr, [r1, #36]
    add     r1, r1, #40
    vldmia  r1, {d8-d15}
    bx      lr
    .size boot_context_switch, . - boot_context_switch
