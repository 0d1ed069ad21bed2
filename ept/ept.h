/*
 * ept.h - the EPT walk: guest-physical to host-physical (SDM Vol. 3C
 * 29.3.2 translation, 29.3.3.1 misconfigurations, 29.3.3.2 violations,
 * 29.3.4 accessed and dirty flags).
 */
#ifndef VX_EPT_H
#define VX_EPT_H

#include <string.h>

#include "xlate.h"

/* EPT entry bits (Tables 29-1 to 29-6). */
enum {
    VX_EPTE_R = 1u << 0, VX_EPTE_W = 1u << 1, VX_EPTE_X = 1u << 2,
    VX_EPTE_IPAT = 1u << 6, VX_EPTE_PS = 1u << 7, VX_EPTE_A = 1u << 8,
    VX_EPTE_D = 1u << 9, VX_EPTE_XU = 1u << 10,
};

/* The result of translating one guest-physical address. */
typedef struct vx_ept_xl {
    vx_xl_status status;   /* OK, EPT_VIOLATION or EPT_MISCONFIG */
    uint64_t hpa;
    uint8_t r, w, x, xu;   /* rights of the translation (AND over the levels) */
    uint8_t shift;         /* page size: 12, 21 or 30 */
    uint8_t memtype, ipat;
    uint8_t dirty;         /* the leaf's dirty flag is set (or A/D flags are off) */
    uint32_t qual;         /* violation: bits 6:0 of the exit qualification */
    uint8_t nrefs;         /* EPT entries read (0: a cached mapping was used) */
} vx_ept_xl;

/* A cache of guest-physical mappings (29.4.1), consulted before walking
 * and filled after a walk; NULL for none.  lookup returns 1 with *x
 * filled (status OK) on a hit. */
struct vx_gpa_cache {
    int (*lookup)(void *ctx, uint64_t gpa, vx_ept_xl *x);
    void (*insert)(void *ctx, uint64_t gpa, const vx_ept_xl *x);
    void *ctx;
};
typedef struct vx_gpa_cache vx_gpa_cache;

/* What an access needs of EPT: VX_EPTE_R, _W, _X (X means: execute in the
 * mode of the linear address when mode-based execute control is on;
 * user_la says which). */
vx_xl_status vx_ept_translate(const vx_ept *ept, const vx_hostmem *mem,
                              const vx_gpa_cache *cache, uint64_t gpa, unsigned need,
                              int user_la, int peek, vx_walk_log *log, int target,
                              vx_ept_xl *out);

/* The same walk with what depends only on the EPTP, the capabilities and
 * MAXPHYADDR worked out once: a two-dimensional walk makes up to 11 EPT
 * translations (29.3.2) under one configuration, and the reserved-bit
 * masks of 29.3.3.1 need not be rebuilt for each entry of each.  What
 * the translation shares among them (memory, cache, log, peek) is kept
 * with it, so that each walk is given only what differs. */
typedef struct vx_ept_walker {
    const vx_ept *ept;
    vx_hostmem mem;          /* a copy: read in every step of every walk */
    const vx_gpa_cache *cache;
    vx_walk_log *log;
    int peek;
    uint64_t root;           /* the first table: EPTP bits MAXPHYADDR-1:12 */
    uint64_t addr_mask;      /* physical-address bits 12 .. MAXPHYADDR-1 */
    uint64_t present;        /* an entry with any of these bits set is present */
    uint64_t bad_low[2];     /* [leaf]: bit n set: bits 5:0 = n is a misconfiguration */
    uint64_t rsvd[2][6];     /* [leaf][level]: bits that make an entry misconfigured */
    uint8_t levels;          /* EPT page-walk length */
    uint8_t ad, mbec;
} vx_ept_walker;

void vx_ept_prepare(vx_ept_walker *wk, const vx_ept *ept, const vx_hostmem *mem,
                    const vx_gpa_cache *cache, vx_walk_log *log, int peek);
vx_xl_status vx_ept_walk(const vx_ept_walker *wk, uint64_t gpa, unsigned need, int user_la,
                         int target, vx_ept_xl *out);

/* Paging-structure entries in host memory (xlate.h vx_hostmem): one load
 * or store where the whole entry lies in RAM, all ones read and nothing
 * written elsewhere (as vx_hostmem says).  Entries are little-endian in
 * memory: on a little-endian host a plain copy is the value; any other
 * host assembles it byte by byte. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VX_HM_NATIVE 1
#else
#define VX_HM_NATIVE 0
#endif

static inline int vx_hm_in_ram(const vx_hostmem *mem, uint64_t pa, unsigned width)
{
    return pa < mem->size && mem->size - pa >= width;
}

static inline uint64_t vx_hm_load(const vx_hostmem *mem, uint64_t pa, unsigned width)
{
    uint64_t v = 0;
    if (!vx_hm_in_ram(mem, pa, width)) return width == 8 ? UINT64_MAX : UINT32_MAX;
    if (VX_HM_NATIVE) {
        memcpy(&v, mem->ram + pa, width);
    } else {
        for (unsigned i = width; i-- > 0;) v = (v << 8) | mem->ram[pa + i];
    }
    return v;
}

static inline void vx_hm_store(const vx_hostmem *mem, uint64_t pa, unsigned width, uint64_t v)
{
    if (!vx_hm_in_ram(mem, pa, width)) return;
    if (VX_HM_NATIVE) {
        memcpy(mem->ram + pa, &v, width);
    } else {
        for (unsigned i = 0; i < width; i++) mem->ram[pa + i] = (uint8_t)(v >> (8 * i));
    }
}

#endif
