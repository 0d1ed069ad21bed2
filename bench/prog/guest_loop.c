/*
 * guest_loop.c - the guest of guest_loop: loop.S in VMX non-root
 * operation, with no exit from the VM entry to the final VMCALL.  The
 * marks are port-0xE9 writes, which do not exit (the VMM sets neither
 * unconditional I/O exiting nor I/O bitmaps, SDM Vol. 3C 25.6.4), so the
 * measured phase is the guest's code alone.
 *
 * In: in[0] = iterations.  Out: out[0], out[1] = checksums, out[2] =
 * the loop's address (as root_loop.c).
 */
#include "bench.h"

extern const uint8_t bench_loop[];

void guest_main(void)
{
    uint64_t n = BENCH_P->in[0], a = 0, d = 0;
    bench_mark(0);
    __asm__ volatile("call bench_loop" : "+c"(n), "+a"(a), "+d"(d) : : "cc", "memory");
    bench_mark(1);
    BENCH_P->out[0] = a;
    BENCH_P->out[1] = d;
    BENCH_P->out[2] = (uint64_t)(uintptr_t)bench_loop;
    __asm__ volatile("vmcall" ::: "memory");   /* exit 18: the VMM ends the run */
    for (;;) __asm__ volatile("pause");
}
