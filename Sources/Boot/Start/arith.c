/*
 * The ARM run-time ABI's integer helpers that clang calls for 64-bit shifts
 * and for division (Cortex-A8 and A9 have no divide instruction). The Swift
 * toolchain ships no compiler-rt builtins for bare-metal ARM, so the image
 * carries these. Written with 32-bit operations and constant shifts only, so
 * that compiling them never calls themselves.
 */
#include <stdint.h>

typedef union { uint64_t whole; struct { uint32_t low, high; } half; } split64;

uint64_t __aeabi_llsl(uint64_t value, int shift) {
    split64 v = { value }, r;
    if (shift >= 64) return 0;
    if (shift == 0) return value;
    if (shift >= 32) { r.half.low = 0; r.half.high = v.half.low << (shift - 32); }
    else { r.half.low = v.half.low << shift; r.half.high = (v.half.high << shift) | (v.half.low >> (32 - shift)); }
    return r.whole;
}

uint64_t __aeabi_llsr(uint64_t value, int shift) {
    split64 v = { value }, r;
    if (shift >= 64) return 0;
    if (shift == 0) return value;
    if (shift >= 32) { r.half.high = 0; r.half.low = v.half.high >> (shift - 32); }
    else { r.half.high = v.half.high >> shift; r.half.low = (v.half.low >> shift) | (v.half.high << (32 - shift)); }
    return r.whole;
}

int64_t __aeabi_lasr(int64_t value, int shift) {
    split64 v = { (uint64_t)value }, r;
    int32_t high = (int32_t)v.half.high;
    if (shift >= 64) shift = 63;
    if (shift == 0) return value;
    if (shift >= 32) { r.half.high = (uint32_t)(high >> 31); r.half.low = (uint32_t)(high >> (shift - 32)); }
    else { r.half.high = (uint32_t)(high >> shift); r.half.low = (v.half.low >> shift) | (v.half.high << (32 - shift)); }
    return (int64_t)r.whole;
}

/* Restoring long division, one quotient bit per step. */
uint64_t boot_udivmod64(uint64_t numerator, uint64_t denominator, uint64_t *remainder) {
    if (denominator == 0) { *remainder = numerator; return ~(uint64_t)0; }
    uint64_t quotient = 0, rest = 0;
    for (int bit = 0; bit < 64; bit++) {
        rest = (rest << 1) | (numerator >> 63);
        numerator <<= 1;
        quotient <<= 1;
        if (rest >= denominator) { rest -= denominator; quotient |= 1; }
    }
    *remainder = rest;
    return quotient;
}

static uint32_t udivmod32(uint32_t numerator, uint32_t denominator, uint32_t *remainder) {
    if (denominator == 0) { *remainder = numerator; return ~(uint32_t)0; }
    uint32_t quotient = 0, rest = 0;
    for (int bit = 0; bit < 32; bit++) {
        rest = (rest << 1) | (numerator >> 31);
        numerator <<= 1;
        quotient <<= 1;
        if (rest >= denominator) { rest -= denominator; quotient |= 1; }
    }
    *remainder = rest;
    return quotient;
}

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d) { uint32_t r; return udivmod32(n, d, &r); }

/* {quotient, remainder} in r0, r1: returned as one 64-bit value. */
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d) {
    uint32_t r, q = udivmod32(n, d, &r);
    split64 result; result.half.low = q; result.half.high = r;
    return result.whole;
}

static uint32_t magnitude(int32_t v) { return v < 0 ? 0u - (uint32_t)v : (uint32_t)v; }

int32_t __aeabi_idiv(int32_t n, int32_t d) {
    uint32_t r, q = udivmod32(magnitude(n), magnitude(d), &r);
    return ((n < 0) != (d < 0)) ? -(int32_t)q : (int32_t)q;
}

uint64_t __aeabi_idivmod(int32_t n, int32_t d) {
    uint32_t r, q = udivmod32(magnitude(n), magnitude(d), &r);
    split64 result;
    result.half.low = ((n < 0) != (d < 0)) ? 0u - q : q;
    result.half.high = n < 0 ? 0u - r : r;
    return result.whole;
}

int64_t boot_divmod64(int64_t n, int64_t d, int64_t *remainder) {
    uint64_t un = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    uint64_t ur, uq = boot_udivmod64(un, ud, &ur);
    *remainder = n < 0 ? -(int64_t)ur : (int64_t)ur;
    return ((n < 0) != (d < 0)) ? -(int64_t)uq : (int64_t)uq;
}

/*
 * 64-bit integer <-> floating-point conversions (Double(Int64), Int64(Double),
 * Float(Int64), ...). The run-time ABI calls these with the base procedure
 * call standard, values in core registers, even in a hard-float image: hence
 * pcs("aapcs"). Built from exact 32-bit VFP conversions and one rounding.
 */
#define AEABI __attribute__((pcs("aapcs")))
static const double two32 = 4294967296.0;

/* Exact: both halves are exact in a double; the sum is rounded once. */
AEABI double __aeabi_ul2d(uint64_t value) {
    split64 v = { value };
    return (double)v.half.high * two32 + (double)v.half.low;
}

AEABI double __aeabi_l2d(int64_t value) {
    split64 v = { (uint64_t)value };
    return (double)(int32_t)v.half.high * two32 + (double)v.half.low;
}

/* To float in one rounding: first narrow to 53 bits, keeping a sticky bit for
   what is dropped, so that the double is exact and rounding to 24 bits is right. */
static float unsigned_to_float(uint64_t magnitude) {
    int shift = 0;
    while (magnitude >> 53) {
        magnitude = (magnitude >> 1) | (magnitude & 1);
        shift++;
    }
    double exact = __aeabi_ul2d(magnitude);
    while (shift--) exact *= 2.0;
    return (float)exact;
}

AEABI float __aeabi_ul2f(uint64_t value) { return unsigned_to_float(value); }

AEABI float __aeabi_l2f(int64_t value) {
    float magnitude = unsigned_to_float(value < 0 ? 0 - (uint64_t)value : (uint64_t)value);
    return value < 0 ? -magnitude : magnitude;
}

/* Toward zero. Swift checks the range before converting; out of range saturates. */
static uint64_t double_to_unsigned(double magnitude) {
    if (!(magnitude >= 1.0)) return 0;                      /* also NaN */
    if (magnitude >= 18446744073709551616.0) return ~(uint64_t)0;
    uint32_t high = (uint32_t)(magnitude / two32);           /* exact scaling, truncating conversion */
    uint32_t low = (uint32_t)(magnitude - (double)high * two32);
    split64 r;
    r.half.high = high;
    r.half.low = low;
    return r.whole;
}

AEABI uint64_t __aeabi_d2ulz(double value) { return value <= 0.0 ? 0 : double_to_unsigned(value); }

AEABI int64_t __aeabi_d2lz(double value) {
    if (value >= 9223372036854775808.0) return INT64_MAX;
    if (value <= -9223372036854775808.0) return INT64_MIN;
    uint64_t magnitude = double_to_unsigned(value < 0 ? -value : value);
    return value < 0 ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
}

AEABI uint64_t __aeabi_f2ulz(float value) { return __aeabi_d2ulz((double)value); }
AEABI int64_t __aeabi_f2lz(float value) { return __aeabi_d2lz((double)value); }
