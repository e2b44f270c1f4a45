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

void *memset(void *dst, int value, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)value;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) return dst;
    if (d < s) {
        while (n--) *d++ = *s++;
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
    if (c == '\n') boot_console_write_byte('\r');
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
