/*
 * __aeabi_uldivmod and __aeabi_ldivmod return the quotient in r0:r1 and the
 * remainder in r2:r3, which C cannot express: call the C division with a
 * pointer to a stack slot for the remainder and load it into r2:r3.
 */
    .syntax unified
    .arm

    .macro divmod64 name, worker
    .section .text.\name, "ax"
    .global \name
    .type \name, %function
\name:
    push    {r11, lr}
    sub     sp, sp, #16
    add     r12, sp, #8
    str     r12, [sp]               /* fifth argument: remainder pointer */
    bl      \worker
    ldr     r2, [sp, #8]
    ldr     r3, [sp, #12]
    add     sp, sp, #16
    pop     {r11, pc}
    .size \name, . - \name
    .endm

    divmod64 __aeabi_uldivmod, boot_udivmod64
    divmod64 __aeabi_ldivmod, boot_divmod64
