/*
 * root_loop.c - the loop of loop.S run directly as a root program (no
 * VMX): the model's cost for exit-free code without a guest.
 *
 * In: in[0] = iterations.  Out: out[0], out[1] = the loop's checksums
 * (RAX, RDX), out[2] = the loop's address (the driver reads the bytes
 * there and runs the same bytes on raw Unicorn).
 * Marks: @0 before the loop, @1 after it.
 */
#include "bench.h"

extern const uint8_t bench_loop[];

int main(void)
{
    bench_check_params();
    uint64_t n = BENCH_P->in[0], a = 0, d = 0;
    bench_mark(0);
    /* loop.S's calling convention, not the C one: RCX, RAX, RDX. */
    __asm__ volatile("call bench_loop" : "+c"(n), "+a"(a), "+d"(d) : : "cc", "memory");
    bench_mark(1);
    BENCH_P->out[0] = a;
    BENCH_P->out[1] = d;
    BENCH_P->out[2] = (uint64_t)(uintptr_t)bench_loop;
    return 0;
}
