/*
 * trace_io.c - a root program that does nothing but produce trace
 * events: OUT to port 0x80, where nothing is decoded (docs/platform.md),
 * is an instruction the model owns and one "io" event each.  With the
 * trace on, its rate is the trace writer's; with it off, the rate of a
 * model-owned instruction that needs no VMX (the site's cost, design.md).
 *
 * In: in[0] = OUT instructions.  Marks: @0 before, @1 after.
 */
#include "bench.h"

int main(void)
{
    bench_check_params();
    uint64_t n = BENCH_P->in[0];
    bench_mark(0);
    for (uint64_t i = 0; i < n; i++) bench_outb(0x80, (uint8_t)i);
    bench_mark(1);
    BENCH_P->out[0] = n;
    return 0;
}
