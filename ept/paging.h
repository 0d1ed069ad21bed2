/*
 * paging.h - linear-address translation by the model (SDM Vol. 3A 4).
 * In this version: the one-dimensional walk root operation needs, over the
 * program's own paging structures, in every paging mode.  Two-level
 * translation (guest paging x EPT) arrives with issue 4.
 */
#ifndef VX_PAGING_H
#define VX_PAGING_H

#include <stdint.h>

/* Paging state the walk depends on. */
typedef struct vx_paging {
    uint64_t cr0, cr3, cr4, efer;
    unsigned maxphyaddr;
} vx_paging;

/* Access kinds: bits of the #PF error code (SDM Vol. 3A 4.7). */
enum {
    VX_PF_P = 1u << 0,     /* the fault was a protection violation */
    VX_PF_W = 1u << 1,     /* write access */
    VX_PF_U = 1u << 2,     /* user-mode access */
    VX_PF_RSVD = 1u << 3,  /* reserved bit set in a paging-structure entry */
    VX_PF_I = 1u << 4,     /* instruction fetch */
};

/* Reads and writes of physical memory for the walker. */
typedef struct vx_physmem {
    uint64_t (*read64)(void *ctx, uint64_t pa);
    uint32_t (*read32)(void *ctx, uint64_t pa);
    void (*write64)(void *ctx, uint64_t pa, uint64_t v);
    void (*write32)(void *ctx, uint64_t pa, uint32_t v);
    void *ctx;
} vx_physmem;

/* Translate la for an access (VX_PF_W / VX_PF_U / VX_PF_I bits in
 * access).  Sets accessed and dirty flags as the CPU does.  Returns 0
 * and *pa, or -1 and *pfec (the #PF error code). */
int vx_paging_walk(const vx_paging *pg, const vx_physmem *mem, uint64_t la,
                   unsigned access, uint64_t *pa, uint32_t *pfec);

#endif
