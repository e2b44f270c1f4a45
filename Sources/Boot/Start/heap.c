/*
 * The heap the Embedded stdlib allocates from (posix_memalign, malloc, free).
 */
#include <stddef.h>
#include <stdint.h>

/* ---- heap -------------------------------------------------------------
 * A first-fit free list over [__heap_start, __heap_end) from the linker
 * script. Blocks carry a one-word header (their size, low bit = in use);
 * freed neighbours are merged on the next walk. Simple and enough for a
 * single-core unikernel that allocates mostly at start-up.
 */
extern char __heap_start[], __heap_end[];

typedef struct block { size_t size; } block_t;   /* size includes the header */
static block_t *heap_first;
/* No free block lies below it: a search starts here instead of walking the
 * blocks allocated at start-up and never freed, each allocation. */
static block_t *heap_first_free;

/* Freed blocks of the small sizes (16 B to 4 KiB with the header, a power
 * of two each) wait in a list per size, still marked in use, and the next
 * allocation of that size takes one at once: a server allocates and frees
 * the same few sizes for every packet, and a walk of the heap costs
 * hundreds of guest instructions under QEMU. */
#define HEAP_CLASSES 9
static block_t *heap_class_free[HEAP_CLASSES];

static int heap_class(size_t need) {
    size_t size = 16;
    for (int c = 0; c < HEAP_CLASSES; c++, size <<= 1) if (need <= size) return c;
    return -1;
}
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

/* Blocks handed out, for `run --timings` (Counters.allocations). */
static unsigned long long heap_allocations;
unsigned long long boot_heap_allocations(void) { return heap_allocations; }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!heap_first) heap_init();
    heap_allocations++;
    if (alignment < HEAP_ALIGN) alignment = HEAP_ALIGN;
    if (alignment & (alignment - 1)) return 22; /* EINVAL */
    size_t need = (size + sizeof(block_t) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
    int class = heap_class(need);
    if (class >= 0) {
        need = (size_t)16 << class;
        block_t *cached = heap_class_free[class];
        if (cached && ((uintptr_t)(cached + 1) & (alignment - 1)) == 0) {
            heap_class_free[class] = *(block_t **)(cached + 1);
            *out = cached + 1;
            return 0;
        }
    }
    int seen_free = 0;
    for (block_t *b = heap_first_free ? heap_first_free : heap_first; heap_contains(b) && b->size; b = heap_next(b)) {
        if (b->size & HEAP_IN_USE) continue;
        if (!seen_free) { heap_first_free = b; seen_free = 1; }
        /* merge following free blocks */
        for (block_t *n = heap_next(b); heap_contains(n) && n->size && !(n->size & HEAP_IN_USE); n = heap_next(b))
            b->size += n->size;
        uintptr_t payload = (uintptr_t)(b + 1);
        size_t pad = (alignment - (payload & (alignment - 1))) & (alignment - 1);
        if (pad && pad < sizeof(block_t) + HEAP_ALIGN) pad += alignment; /* room for a free block in front */
        if (b->size < need + pad) continue;
        block_t *lowest_free = 0;
        if (pad) {                      /* split off the padding as a free block */
            block_t *aligned = (block_t *)((char *)b + pad);
            aligned->size = b->size - pad;
            b->size = pad;
            lowest_free = b;
            b = aligned;
        }
        if (b->size - need >= sizeof(block_t) + HEAP_ALIGN) {
            block_t *rest = (block_t *)((char *)b + need);
            rest->size = b->size - need;
            b->size = need;
        }
        b->size |= HEAP_IN_USE;
        if (b == heap_first_free || lowest_free == heap_first_free) heap_first_free = lowest_free ? lowest_free : heap_next(b);
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
    size_t size = b->size & ~HEAP_IN_USE;
    int class = heap_class(size);
    if (class >= 0 && ((size_t)16 << class) == size) {   /* kept for the next allocation of its size */
        *(block_t **)(b + 1) = heap_class_free[class];
        heap_class_free[class] = b;
        return;
    }
    b->size &= ~HEAP_IN_USE;
    if (!heap_first_free || b < heap_first_free) heap_first_free = b;
}

/* Bytes in use and free, for the unikernel's own reports. */
void boot_heap_usage(size_t *used, size_t *available) {
    if (!heap_first) heap_init();
    size_t u = 0, f = 0;
    for (block_t *b = heap_first; heap_contains(b) && b->size; b = heap_next(b)) {
        if (b->size & HEAP_IN_USE) u += b->size & ~HEAP_IN_USE; else f += b->size;
    }
    for (int c = 0; c < HEAP_CLASSES; c++) {       /* cached free blocks are marked in use */
        for (block_t *b = heap_class_free[c]; b; b = *(block_t **)(b + 1)) { u -= (size_t)16 << c; f += (size_t)16 << c; }
    }
    *used = u; *available = f;
}
