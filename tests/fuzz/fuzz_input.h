/*
 * fuzz_input.h - what the fuzz targets share: reading operations out of
 * the input bytes, and the one way a target reports a discrepancy.
 *
 * An exhausted input reads as zeros, so every prefix of an input is itself
 * a valid input and libFuzzer's mutations never meet a parse error; the
 * targets stop at fuzz_input_done() instead.
 */
#ifndef HEAPLAB_FUZZ_INPUT_H
#define HEAPLAB_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A discrepancy between heaplab and a target's shadow: say which check
 * failed (the stack shows where) and stop, so that libFuzzer records the
 * input as a crash. */
#define FUZZ_CHECK(cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);      \
            __builtin_trap();                                                                     \
        }                                                                                         \
    } while (0)

typedef struct fuzz_input {
    const uint8_t *p;
    size_t left;
} fuzz_input;

static inline fuzz_input fuzz_input_of(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    return in;
}

static inline int fuzz_input_done(const fuzz_input *in)
{
    return in->left == 0;
}

static inline uint8_t fuzz_u8(fuzz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* Little-endian, so a seed file reads the way it is written. */
static inline uint16_t fuzz_u16(fuzz_input *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

/* An index below n (n > 0), from one byte: inputs stay short and a
 * mutation of one byte moves one choice. */
static inline uint32_t fuzz_pick(fuzz_input *in, uint32_t n)
{
    return fuzz_u8(in) % n;
}

#endif /* HEAPLAB_FUZZ_INPUT_H */
