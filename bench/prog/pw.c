/*
 * pw.c - the page_walks workload: build 4-level paging structures
 * (SDM Vol. 3A 4.5) with two regions of pw_layout.h, then touch their
 * pages so that translations are missing and must be walked:
 *
 *   phase  marks   what                                   pages touched
 *   0      @0-@1   region A, first touch (cold)           in[0]
 *   1      @2-@3   in[2] times: region A, no invalidation in[2] * in[0]
 *                  (the model's translations all hit)
 *   2      @4-@5   in[2] times: MOV CR3, region A         in[2] * in[0]
 *   3      @6-@7   region B, first touch (cold)           in[1]
 *   4      @8-@9   MOV CR3, region B                      in[1]
 *   5      @10-@11 in[2] times: INVEPT, region A          in[2] * in[0]
 *   6      @12-@13 INVEPT, region B                       in[1]
 *
 * MOV CR3 invalidates every translation not marked global (4.10.4.1;
 * no entry here sets G, and CR4.PGE is 0), so each touch after it is a
 * walk.  A first touch is a walk too, plus whatever the model does the
 * first time it sees a page.  Reads only: a read walk sets accessed
 * flags and no dirty flag (4.8), one walk per page.
 *
 * Phases 5 and 6 run only under a real EPT (vmm_ept.c, which defines
 * pw_flush_ept: an exit to the VMM, which executes INVEPT all-context).
 * That drops the guest-physical mappings too, which MOV CR3 leaves
 * (29.4.3.1): each walk of phase 2 may find the EPT translations of the
 * guest's paging structures and frames cached, each walk of phase 5
 * starts with none.
 *
 * pw_run() runs the same way in root operation (page_walks.c) and as a
 * guest (guest_pw.c under vmm.c, with or without vmm_ept.c): it only
 * needs CPL 0, its own CR3 and port 0xE9 for the marks.
 *
 * Out: out[0..6] = sum of the qwords read in each phase (the driver
 * checks them against pw_layout.h).
 */
#include "bench.h"
#include "pw_layout.h"

void pw_flush_ept(void) __attribute__((weak));   /* vmm_ept.c, or null */

#define PTE_P  1ull
#define PTE_RW 2ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_a[512] __attribute__((aligned(4096)));
static uint64_t pt_a[PW_PTS_A][512] __attribute__((aligned(4096)));
static uint64_t pd_b[512] __attribute__((aligned(4096)));

static uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* Keep what the current tables map below 512 GiB (the program, its
 * stack, the parameter block: identity-mapped low memory), add A and B.
 * The tables are in .bss, at physical = linear addresses. */
static void build(uint64_t na)
{
    const uint64_t *old_pml4 = (const uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR);
    const uint64_t *old_pdpt = (const uint64_t *)(uintptr_t)(old_pml4[0] & PTE_ADDR);
    for (int i = 0; i < 512; i++) pdpt[i] = old_pdpt[i];
    pml4[0] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_RW;
    pdpt[PW_LA_A >> 30] = (uint64_t)(uintptr_t)pd_a | PTE_P | PTE_RW;
    pdpt[PW_LA_B >> 30] = (uint64_t)(uintptr_t)pd_b | PTE_P | PTE_RW;
    for (uint64_t i = 0; i < na; i++) {
        if (i % 512 == 0) pd_a[i / 512] = (uint64_t)(uintptr_t)pt_a[i / 512] | PTE_P | PTE_RW;
        pt_a[i / 512][i % 512] = pw_frame_a(i) | PTE_P | PTE_RW;
    }
    for (uint64_t i = 0; i < 512; i++) pd_b[i] = pw_frame_b(i) | PTE_PS | PTE_P | PTE_RW;
    write_cr3((uint64_t)(uintptr_t)pml4);
}

static uint64_t touch_a(uint64_t na, uint64_t stride)
{
    uint64_t sum = 0, page = 0;
    for (uint64_t k = 0; k < na; k++) {
        sum += *(volatile const uint64_t *)(uintptr_t)(PW_LA_A + page * 4096 + pw_offset(page));
        page += stride;
        if (page >= na) page -= na;
    }
    return sum;
}

static uint64_t touch_b(uint64_t nb)
{
    uint64_t sum = 0;
    for (uint64_t page = 0; page < nb; page++)
        sum += *(volatile const uint64_t *)(uintptr_t)(PW_LA_B + page * 4096 + pw_offset(page));
    return sum;
}

void pw_run(void)
{
    volatile struct bench_params *p = BENCH_P;
    uint64_t na = p->in[0], nb = p->in[1], passes = p->in[2];
    if (na == 0 || na > PW_MAX_A || nb > PW_MAX_B) bench_finish(30);
    uint64_t stride = pw_stride(na);
    build(na);
    uint64_t cr3 = read_cr3();

    bench_mark(0);
    p->out[0] = touch_a(na, stride);
    bench_mark(1);

    bench_mark(2);
    uint64_t sum = 0;
    for (uint64_t r = 0; r < passes; r++) sum += touch_a(na, stride);
    p->out[1] = sum;
    bench_mark(3);

    bench_mark(4);
    sum = 0;
    for (uint64_t r = 0; r < passes; r++) {
        write_cr3(cr3);
        sum += touch_a(na, stride);
    }
    p->out[2] = sum;
    bench_mark(5);

    bench_mark(6);
    p->out[3] = touch_b(nb);
    bench_mark(7);

    bench_mark(8);
    write_cr3(cr3);
    p->out[4] = touch_b(nb);
    bench_mark(9);

    if (!pw_flush_ept) return;
    bench_mark(10);
    sum = 0;
    for (uint64_t r = 0; r < passes; r++) {
        pw_flush_ept();
        sum += touch_a(na, stride);
    }
    p->out[5] = sum;
    bench_mark(11);

    bench_mark(12);
    pw_flush_ept();
    p->out[6] = touch_b(nb);
    bench_mark(13);
}
