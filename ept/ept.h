/*
 * ept.h - the EPT walk: guest-physical to host-physical (SDM Vol. 3C
 * 29.3.2 translation, 29.3.3.1 misconfigurations, 29.3.3.2 violations,
 * 29.3.4 accessed and dirty flags).
 */
#ifndef VX_EPT_H
#define VX_EPT_H

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

#endif
