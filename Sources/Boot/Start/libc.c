/*
 * The C library a freestanding Embedded Swift image needs, since none is
 * linked: memset/memcpy/memmove and the __aeabi_mem* helpers clang emits,
 * stack-protector symbols, putchar/puts (which the Embedded stdlib's print()
 * calls) and sqrt. The heap is in heap.c; CPU operations in cpu.c.
 */
#include <stddef.h>
#include <stdint.h>

void boot_fault_message(const char *message);

/* ---- memory ---------------------------------------------------------- */

/* A word at a time where the pointers allow: under QEMU every guest
 * instruction costs, and the stdlib clears and copies arrays through these. */
void *memset(void *dst, int value, size_t n) {
    unsigned char *d = dst;
    unsigned char byte = (unsigned char)value;
    while (n && ((uintptr_t)d & 3)) { *d++ = byte; n--; }
    uint32_t word = byte * 0x01010101u;
    for (; n >= 16; n -= 16, d += 16) {
        ((uint32_t *)d)[0] = word; ((uint32_t *)d)[1] = word;
        ((uint32_t *)d)[2] = word; ((uint32_t *)d)[3] = word;
    }
    for (; n >= 4; n -= 4, d += 4) *(uint32_t *)d = word;
    while (n--) *d++ = byte;
    return dst;
}

/* A word read from any address: ARMv7 allows unaligned single loads in normal
 * memory, and mmu.c turns alignment faults off before any copy is made. */
typedef uint32_t __attribute__((aligned(1), may_alias)) unaligned_word;

/* Copies forwards, in the fewest memory accesses QEMU will emulate: it turns
 * each lane of a NEON VLD1/VST1 into one access, so 64-bit lanes move 16
 * bytes in 2 where words take 4 and the byte lanes the compiler picks for
 * an unaligned source take 16. Written as assembly so that no alignment
 * qualifier is added: the source is often 2 bytes off (a frame's payload
 * after 14 + 20 + 32 bytes of headers), which VLD1 without one allows. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n) {
    while (n && ((uintptr_t)d & 7)) { *d++ = *s++; n--; }
#if defined(__ARM_NEON)
    for (; n >= 64; n -= 64) {
        __asm__ volatile("vld1.64 {d16-d19}, [%0]!\n\t"
                         "vld1.64 {d20-d23}, [%0]!\n\t"
                         "vst1.64 {d16-d19}, [%1]!\n\t"
                         "vst1.64 {d20-d23}, [%1]!"
                         : "+r"(s), "+r"(d) : : "d16", "d17", "d18", "d19", "d20", "d21", "d22", "d23", "memory");
    }
    for (; n >= 8; n -= 8) {
        __asm__ volatile("vld1.64 {d16}, [%0]!\n\tvst1.64 {d16}, [%1]!" : "+r"(s), "+r"(d) : : "d16", "memory");
    }
#else
    for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const unaligned_word *)s;
#endif
    while (n--) *d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    copy_forward(dst, src, n);
    return dst;
}

/* Copies from the end down, for a destination that overlaps the source
 * above it; 8 bytes at a time once the destination's end is aligned (each
 * load comes before the store that could overlap it). */
static void copy_backward(unsigned char *d, const unsigned char *s, size_t n) {
    d += n; s += n;
    while (n && ((uintptr_t)d & 7)) { *--d = *--s; n--; }
#if defined(__ARM_NEON)
    for (; n >= 8; n -= 8) {
        d -= 8; s -= 8;
        __asm__ volatile("vld1.64 {d16}, [%0]\n\tvst1.64 {d16}, [%1]" : : "r"(s), "r"(d) : "d16", "memory");
    }
#else
    for (; n >= 4; n -= 4) { d -= 4; s -= 4; *(uint32_t *)d = *(const unaligned_word *)s; }
#endif
    while (n--) *--d = *--s;
}

/* Forward unless the destination overlaps the source from above. Most
 * moves do not overlap at all (a frame into a DMA buffer, which lies above
 * the heap): those go forward, a run at a time, like memcpy. */
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) copy_forward(d, s, n);
    else copy_backward(d, s, n);
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

/* ---- stack protector ------------------------------------------------- */

uintptr_t __stack_chk_guard = 0x5afe57ac;
void __stack_chk_fail(void) { boot_fault_message("stack smashing detected"); }

/* ---- console --------------------------------------------------------- */

/* Defined in Swift (Runtime/Console.swift): writes to the console driver
   the glue code attached, so that print() and fault reports reach it. */
void boot_console_write_byte(uint8_t byte);

int putchar(int c) {
    boot_console_write_byte((uint8_t)c);
    return c;
}

int puts(const char *s) {
    while (*s) putchar(*s++);
    putchar('\n');
    return 0;
}

/* Square root for Swift's Double.squareRoot(): one VFP instruction. */
double sqrt(double x) {
    double root;
    __asm__("vsqrt.f64 %P0, %P1" : "=w"(root) : "w"(x));
    return root;
}

/* Rounding to an integral value, which the stdlib calls (Dictionary and Set
   size their storage with ceil; Double.rounded uses the others). VFPv3 has
   no round-to-integral instruction, so these clear fraction bits. */
double trunc(double x) {
    union { double d; uint64_t u; } v = { x };
    int exponent = (int)((v.u >> 52) & 0x7ff) - 1023;
    if (exponent >= 52) return x;                       /* integral already, or inf or NaN */
    if (exponent < 0) { v.u &= 1ull << 63; return v.d; }  /* |x| < 1: a signed zero */
    v.u &= ~(0x000fffffffffffffull >> exponent);
    return v.d;
}
double floor(double x) { double t = trunc(x); return t > x ? t - 1.0 : t; }
double ceil(double x) { double t = trunc(x); return t < x ? t + 1.0 : t; }
double round(double x) {
    double t = trunc(x), fraction = x - t;              /* exact: both lie in one binade */
    if (fraction >= 0.5) return t + 1.0;
    if (fraction <= -0.5) return t - 1.0;
    return t;
}

float truncf(float x) {
    union { float f; uint32_t u; } v = { x };
    int exponent = (int)((v.u >> 23) & 0xff) - 127;
    if (exponent >= 23) return x;
    if (exponent < 0) { v.u &= 1u << 31; return v.f; }
    v.u &= ~(0x007fffffu >> exponent);
    return v.f;
}
float floorf(float x) { float t = truncf(x); return t > x ? t - 1.0f : t; }
float ceilf(float x) { float t = truncf(x); return t < x ? t + 1.0f : t; }
float roundf(float x) {
    float t = truncf(x), fraction = x - t;
    if (fraction >= 0.5f) return t + 1.0f;
    if (fraction <= -0.5f) return t - 1.0f;
    return t;
}

/* The ARM EHABI personality routines, which the unwind tables of the Swift
   toolchain's C++ objects (its Unicode tables) name. Nothing unwinds in a
   unikernel, so reaching one is a fault, reported as such. */
void __aeabi_unwind_cpp_pr0(void) { boot_fault_message("C++ unwinding is not supported"); }
void __aeabi_unwind_cpp_pr1(void) { boot_fault_message("C++ unwinding is not supported"); }
void __aeabi_unwind_cpp_pr2(void) { boot_fault_message("C++ unwinding is not supported"); }
/* Swift's personality routine, which Swift functions that call C name. The
   Embedded runtime's weak one reports through the stdlib's fatal-error path,
   which would link that path, and its messages, into every image. */
void _swift_exceptionPersonality(void) { boot_fault_message("C++ unwinding is not supported"); }
