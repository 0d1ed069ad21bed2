/*
 * vmm_ept.c - page_walks under a real EPT: linked with vmm.c, guest_pw.c
 * and pw.c into page_walks_ept.elf.
 *
 * The VMM side (vmm_ept_setup, called by vmm.c before VMLAUNCH) builds a
 * 4-level EPT (SDM Vol. 3C 29.3.2) over guest-physical [0, 192 MiB) with
 * pages of 1 << in[3] bytes: 4 KiB (in[3] = 12: EPT PTEs, Table 29-6) or
 * 2 MiB (21: EPT PDEs with bit 7 set, Table 29-4).  Each page maps to
 * pw_ept_hpa() of its address (pw_layout.h): low memory, where the
 * program, its tables and the parameter block are, to the same
 * host-physical address; the frames of regions A and B to a pool at
 * host-physical 192 MiB, scrambled.  Every entry is read/write/execute,
 * memory type write-back (29.3.7); EPT accessed and dirty flags are off
 * (EPTP bit 6 clear), so the guest's own accessed-flag writes are data
 * writes through EPT (29.3.3.2).  With this EPT, each guest walk of
 * pw.c is two-dimensional: every guest paging-structure entry, and the
 * final guest-physical address, is translated through EPT.
 *
 * The guest side (pw_flush_ept, called by pw.c) asks for INVEPT: it sets
 * a flag and executes CPUID, which exits; the VMM (vmm_ept_on_cpuid,
 * from vmm.c's CPUID handler) executes INVEPT all-context (31.3, type 2),
 * which drops the guest-physical and combined mappings of every EPTP
 * (29.4.3.1), so that the next walks find nothing cached in either
 * dimension.  (The exit itself already drops the linear and combined
 * mappings: VPID is off, 29.4.3.1.)
 *
 * In: in[3], the EPT page shift.  The driver checks the INVEPTs by the
 * exits: one CPUID exit per request, and VMCALL (out[7], vmm.c).
 */
#include "bench.h"
#include "pw_layout.h"
#include "../../examples/common/vmm.h"

#define EPT_RWX  7ull
#define EPT_WB   (6ull << 3)     /* memory type 6, bits 5:3 of a leaf */
#define EPT_PS   (1ull << 7)
#define NPD      (PW_EPT_GTOP >> 21)   /* 96 PDEs: 192 MiB */

static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pt[NPD][512] __attribute__((aligned(4096)));
static uint64_t eptp;
static volatile uint64_t flush_wanted;  /* shared by guest and VMM: same memory */

/* The EPTP, or 0 when the processor lacks what this EPT uses
 * (IA32_VMX_EPT_VPID_CAP, A.10): page-walk length 4 (bit 6), write-back
 * (14), 2-MByte pages (16) when asked for, INVEPT (20) all-context (26). */
uint64_t vmm_ept_setup(void)
{
    unsigned shift = (unsigned)BENCH_P->in[3];
    uint64_t cap = rdmsr(0x48C);
    uint64_t need = 1ull << 6 | 1ull << 14 | 1ull << 20 | 1ull << 26 | (shift == 21 ? 1ull << 16 : 0);
    if ((shift != 12 && shift != 21) || (cap & need) != need) return 0;
    ept_pml4[0] = (uint64_t)(uintptr_t)ept_pdpt | EPT_RWX;
    ept_pdpt[0] = (uint64_t)(uintptr_t)ept_pd | EPT_RWX;
    for (uint64_t i = 0; i < NPD; i++) {
        uint64_t gpa = i << 21;
        if (shift == 21) {
            ept_pd[i] = pw_ept_hpa(gpa, 21) | EPT_PS | EPT_WB | EPT_RWX;
            continue;
        }
        ept_pd[i] = (uint64_t)(uintptr_t)ept_pt[i] | EPT_RWX;
        for (uint64_t j = 0; j < 512; j++)
            ept_pt[i][j] = pw_ept_hpa(gpa + (j << 12), 12) | EPT_WB | EPT_RWX;
    }
    /* Page-walk length 4 (bits 5:3 = 3), write-back paging structures
     * (bits 2:0 = 6). */
    eptp = (uint64_t)(uintptr_t)ept_pml4 | 3u << 3 | 6;
    return eptp;
}

/* VMX root operation, at a CPUID exit. */
void vmm_ept_on_cpuid(void)
{
    if (!flush_wanted) return;
    flush_wanted = 0;
    struct { uint64_t eptp, zero; } desc = {eptp, 0};
    uint8_t bad;
    __asm__ volatile("invept %1, %2; setbe %0" : "=q"(bad) : "m"(desc), "r"(2ull) : "cc", "memory");
    if (bad) bench_finish(17);
}

/* VMX non-root operation: pw.c between passes. */
void pw_flush_ept(void)
{
    flush_wanted = 1;
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
    if (flush_wanted) bench_finish(18);   /* the VMM did not see it */
}
