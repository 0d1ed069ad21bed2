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
