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

/* Copies forwards: words when both pointers share their alignment. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n) {
    if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        while (n && ((uintptr_t)d & 3)) { *d++ = *s++; n--; }
        for (; n >= 16; n -= 16, d += 16, s += 16) {
            uint32_t a = ((const uint32_t *)s)[0], b = ((const uint32_t *)s)[1];
            uint32_t c = ((const uint32_t *)s)[2], e = ((const uint32_t *)s)[3];
            ((uint32_t *)d)[0] = a; ((uint32_t *)d)[1] = b; ((uint32_t *)d)[2] = c; ((uint32_t *)d)[3] = e;
        }
        for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n--) *d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    copy_forward(dst, src, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) return dst;
    if (d < s) {
        copy_forward(d, s, n);
    } else {
        d += n; s += n;
        while (n--) *--d = *--s;
    }
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
