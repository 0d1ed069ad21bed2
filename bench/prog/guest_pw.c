/*
 * guest_pw.c - page_walks as a guest of vmm.c: the same pw_run(), in
 * VMX non-root operation.  The guest loads its own CR3 (no exit: the VMM
 * leaves CR3-load exiting off) and, without EPT, its linear addresses
 * translate through its tables alone (SDM Vol. 3C 29.3: no EPT, guest-
 * physical = physical).  Under a real EPT each of those walks would be
 * two-dimensional; only vmm.c's setup_guest_paging() changes.
 */
#include "bench.h"

void pw_run(void);

void guest_main(void)
{
    pw_run();
    __asm__ volatile("vmcall" ::: "memory");
    for (;;) __asm__ volatile("pause");
}
