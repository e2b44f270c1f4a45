/*
 * What the task scheduler (Sources/Boot/Tasks) needs of the CPU: a context
 * to switch to (context.S) and the region the task stacks come from, with
 * its guard pages. The region is mapped page by page (mmu.c), so that the
 * page below each task's stack can be left unmapped: running off the bottom
 * of a task's stack is then a data abort, which the fault report names.
 */
#include <stddef.h>
#include <stdint.h>

extern char __task_stacks_start[], __task_stacks_end[];

/* r4-r11, sp, lr and d8-d15 (context.S). */
#define CONTEXT_WORDS 26

size_t boot_context_size(void) { return CONTEXT_WORDS * 4; }

/* A context whose first switch calls entry() on the stack [base, base + size).
   entry never returns: a finished task switches away for the last time. */
void boot_context_prepare(uint32_t *context, uintptr_t base, size_t size, void (*entry)(void)) {
    for (int i = 0; i < CONTEXT_WORDS; i++) context[i] = 0;
    context[8] = (uint32_t)((base + size) & ~(uintptr_t)7);   /* AAPCS: sp 8-byte aligned at a call */
    context[9] = (uint32_t)(uintptr_t)entry;
}

/* The task stacks region from the linker script. */
intptr_t boot_task_stacks_start(void) { return (intptr_t)__task_stacks_start; }
intptr_t boot_task_stacks_end(void) { return (intptr_t)__task_stacks_end; }

/* The smallest stack a task gets on this machine. */
size_t boot_task_stack_minimum(void) { return 4096; }
