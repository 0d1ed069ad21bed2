/*
 * pw_layout.h - the address layout of page_walks, shared by the
 * freestanding program (pw.c, which builds the paging structures) and
 * the driver (which fills the frames with known values and computes the
 * sums the program must report): one definition, so the check that the
 * model translated every access to the right frame cannot drift from
 * what the program does.
 *
 *   region A  linear 8 GiB (PDPT entry 8): up to PW_MAX_A pages of 4 KiB,
 *             page i mapped to frame pw_frame_a(i), a permutation of
 *             PW_FRAMES_A frames at PW_PA_A (pages beyond that alias);
 *             touched in the scattered order pw_order_a().
 *   region B  linear 16 GiB (PDPT entry 16): 1 GiB of 2 MiB pages, page
 *             i mapped to frame i mod PW_FRAMES_B at PW_PA_B, so 1 GiB of
 *             linear space aliases 64 MiB of RAM; touched one qword per
 *             4 KiB, in order.
 *
 * Each touch reads one qword at pw_offset(page) in the page.  The
 * driver fills RAM with pw_value(physical address).
 */
#ifndef PW_LAYOUT_H
#define PW_LAYOUT_H

#include <stdint.h>

#define PW_MEM        (256ull << 20)        /* the machine's RAM */
#define PW_LA_A       (8ull << 30)
#define PW_LA_B       (16ull << 30)
#define PW_PA_A       (64ull << 20)
#define PW_FRAMES_A   16384u                /* 64 MiB */
#define PW_PA_B       (128ull << 20)
#define PW_FRAMES_B   32u                   /* 2 MiB each: 64 MiB */
#define PW_PTS_A      64u                   /* page tables of region A */
#define PW_MAX_A      (PW_PTS_A * 512u)     /* 32768 pages, 128 MiB */
#define PW_MAX_B      (512u * 512u)         /* 4 KiB pages in 1 GiB */

static inline uint64_t pw_frame_a(uint64_t page)
{
    return PW_PA_A + (page * 5167u % PW_FRAMES_A) * 4096u;   /* 5167 odd: a permutation */
}

static inline uint64_t pw_frame_b(uint64_t page2m)
{
    return PW_PA_B + (page2m % PW_FRAMES_B) * (2ull << 20);
}

static inline uint64_t pw_offset(uint64_t page)
{
    return page * 72u & 0xFF8u;
}

/* Physical address read by the touch of page `page` of region B. */
static inline uint64_t pw_pa_b(uint64_t page)
{
    return pw_frame_b(page / 512u) + (page % 512u) * 4096u + pw_offset(page);
}

/* Under a real EPT (variants ept4k and ept2m, vmm_ept.c): the guest-
 * physical layout above is unchanged, and the EPT maps it to host-
 * physical memory that is not the same address:
 *
 *   guest-physical [0, PW_PA_A)        the program, its tables, the
 *                                       parameter block: host-physical
 *                                       the same (the VMM and its guest
 *                                       are one program)
 *   guest-physical [PW_PA_A, PW_EPT_GTOP)  regions A's and B's frames:
 *                                       backed by frames of a pool at
 *                                       host-physical PW_EPT_POOL, 4 KiB
 *                                       or 2 MiB frames as the EPT's
 *                                       pages are, in a scrambled order;
 *                                       except region B's under 4 KiB
 *                                       EPT pages, which keep their order
 *                                       (the frames of one 2 MiB guest
 *                                       page are consecutive in the pool)
 *
 * Why region B's 4 KiB frames are not scrambled: the model maps each
 * linear 4 KiB page to its host frame with an mmap of its own, and the
 * host merges neighbouring ones only when their frames are neighbours
 * too.  Scrambled, the 262,144 pages of region B would need as many
 * host mappings, more than Linux allows a process (vm.max_map_count,
 * 65,530 by default): the run fails after region A ("cannot map guest
 * memory ... Cannot allocate memory"; docs/bench.md).
 *
 * The driver puts pw_value(guest-physical address) in the pool frame
 * that backs each address, and something else at the host-physical
 * addresses equal to those guest-physical ones, so that a read the EPT
 * did not translate cannot add up to the right sum. */
#define PW_EPT_GTOP   (PW_PA_B + PW_FRAMES_B * (2ull << 20))  /* 192 MiB */
#define PW_EPT_POOL   PW_EPT_GTOP
#define PW_EPT_MEM    (PW_EPT_POOL + (PW_EPT_GTOP - PW_PA_A))  /* 320 MiB */

/* The host-physical address EPT maps guest-physical gpa to, with EPT
 * pages of 1 << shift bytes (12 or 21). */
static inline uint64_t pw_ept_hpa(uint64_t gpa, unsigned shift)
{
    if (gpa < PW_PA_A || gpa >= PW_EPT_GTOP) return gpa;
    uint64_t j = (gpa - PW_PA_A) >> shift, k;
    if (shift == 21)
        k = (j * 37 + 5) % ((PW_EPT_GTOP - PW_PA_A) >> 21);   /* 64 frames; 37 odd: a permutation */
    else if (gpa < PW_PA_B)
        k = (j * 20011 + 5) % PW_FRAMES_A;                    /* region A: 16384 frames */
    else
        k = j;                                                /* region B: in order */
    return PW_EPT_POOL + (k << shift) + (gpa & ((1ull << shift) - 1));
}

static inline uint64_t pw_value(uint64_t pa)
{
    return (pa >> 3) * 0x9E3779B97F4A7C15ull;
}

/* A stride coprime with n: k * stride mod n (k < n) visits every page
 * once, scattered across region A. */
static inline uint64_t pw_stride(uint64_t n)
{
    uint64_t s = 7919;
    for (;;) {
        uint64_t a = s, b = n;
        while (b) { uint64_t t = a % b; a = b; b = t; }
        if (a == 1) return s % (n ? n : 1);
        s += 2;
    }
}

#endif
