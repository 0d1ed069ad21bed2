/*
 * guest_cpuid.c - the guest of exit_roundtrip: CPUID in a loop.  CPUID
 * exits unconditionally in VMX non-root operation (SDM Vol. 3C 26.1.2),
 * so each iteration is one VM exit and one VM entry (the VMM skips the
 * instruction and resumes), plus three guest instructions.
 *
 * In: in[0] = iterations (exits).  Out: out[0] = iterations done.
 * Marks: @0 before the first CPUID, @1 after the last.
 */
#include "bench.h"

void guest_main(void)
{
    uint64_t n = BENCH_P->in[0], left = n;
    bench_mark(0);
    /* The VMM does not emulate CPUID (the registers stay as they were),
     * but the clobbers say what a real CPUID would do. */
    __asm__ volatile("1: xorl %%eax, %%eax\n\t"
                     "cpuid\n\t"
                     "decq %0\n\t"
                     "jnz 1b"
                     : "+r"(left) : : "rax", "rbx", "rcx", "rdx", "cc");
    bench_mark(1);
    BENCH_P->out[0] = n - left;
    __asm__ volatile("vmcall" ::: "memory");
    for (;;) __asm__ volatile("pause");
}
