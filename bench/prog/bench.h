/*
 * bench.h - what the benchmark programs (freestanding, run on vmxsim)
 * share with the driver (bench/driver.c, a host program).
 *
 * Inputs and outputs go through one block at a fixed physical address,
 * below the programs (linked at 1 MiB) and above the start state's page
 * tables and GDT (0x1000-0x701F, docs/start-state.md), so neither side
 * needs the other's symbols.  The driver writes the inputs after loading
 * the program and reads the outputs after the run; inputs are fixed
 * numbers (deterministic), scaled only by the driver's --scale.
 *
 * Timing marks: a program prints "@K\n" on port 0xE9 at the start and
 * end of each measured phase.  Each line is one "console" trace event
 * (docs/traces.md); the driver takes host time in the event callback,
 * so nothing the model does depends on it.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

#define BENCH_PARAMS_PA 0x8000u
#define BENCH_MAGIC 0x68636e6562786d76ull   /* "vmxbench" */

struct bench_params {
    uint64_t magic;     /* written by the driver; checked by the program */
    uint64_t in[8];     /* workload inputs (counts) */
    uint64_t out[8];    /* workload outputs (checksums, counts) */
    uint64_t status;    /* 0 = fine; otherwise the program's failure code */
};

#ifndef BENCH_HOST
/* ---- the freestanding side ---- */

#define BENCH_P ((volatile struct bench_params *)(uintptr_t)BENCH_PARAMS_PA)

static inline void bench_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void bench_print(const char *s)
{
    while (*s) bench_outb(0xE9, (uint8_t)*s++);
}

/* The timing mark K (0-99). */
static inline void bench_mark(unsigned k)
{
    bench_outb(0xE9, '@');
    if (k >= 10) bench_outb(0xE9, (uint8_t)('0' + k / 10));
    bench_outb(0xE9, (uint8_t)('0' + k % 10));
    bench_outb(0xE9, '\n');
}

/* End the run: V written to port 0xF4 gives exit status (V << 1) | 1,
 * so 0 (exit status 1) is success and anything else names a failure. */
static inline void __attribute__((noreturn)) bench_finish(uint32_t v)
{
    BENCH_P->status = v;
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"((uint16_t)0xF4));
    for (;;) __asm__ volatile("hlt");
}

/* The driver's block must be there: a program run by hand (vmxsim run)
 * has none and says so instead of running with zero counts. */
static inline void bench_check_params(void)
{
    if (BENCH_P->magic != BENCH_MAGIC) {
        bench_print("bench: no parameter block at 0x8000 (run me from the bench driver)\n");
        bench_finish(100);
    }
}
#endif

#endif
