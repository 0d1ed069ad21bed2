/*
 * tlb.h - cached translation information, as the architecture permits a
 * processor to keep it (SDM Vol. 3A 4.10, Vol. 3C 29.4):
 *
 *  - linear mappings (EPT not in use) and combined mappings (EPT in use):
 *    linear page -> host-physical page with the rights of the walk,
 *    tagged with the VPID, the PCID and (combined) the EPT root;
 *    translations of global pages are kept for all PCIDs (4.10.2.4);
 *  - guest-physical mappings: guest-physical page -> host-physical page
 *    with EPT's rights, tagged with the EPT root (29.4.1).
 *
 * A cached translation stays until an operation the SDM defines as
 * invalidating it removes it (or the cache is full and empties itself,
 * which the architecture allows at any time).  No paging-structure
 * caches are kept: every miss walks from the root.
 */
#ifndef VX_TLB_H
#define VX_TLB_H

#include <stdint.h>

#include "ept.h"

/* The tags of a translation. */
typedef struct vx_tlb_tag {
    uint16_t vpid;         /* 0 in VMX root operation and without "enable VPID" */
    uint16_t pcid;         /* CR3[11:0] with CR4.PCIDE = 1, else 0 */
    uint8_t ept;           /* a combined mapping */
    uint64_t eptrta;       /* EPTP bits 51:12 (combined mappings) */
} vx_tlb_tag;

typedef struct vx_tlb_entry {
    uint64_t la, gpa, hpa;   /* aligned to the mapping's size */
    uint32_t ctx;            /* index of its tag (global: pcid VX_TLB_ANY_PCID) */
    uint8_t shift;           /* 12, 21, 22 or 30 */
    uint8_t rw, us, xd, global, pkey;
    uint8_t er, ew, ex, exu, memtype;
    uint8_t dirty;
    uint8_t dead;            /* removed; still in its chain until a rebuild */
    int32_t next;            /* hash chain (index), -1 at the end */
} vx_tlb_entry;

typedef struct vx_gpa_entry {
    uint64_t gpa;            /* aligned to 1 << x.shift */
    uint64_t eptrta;
    vx_ept_xl x;
    int32_t next;
} vx_gpa_entry;

#define VX_TLB_ANY_PCID 0xFFFFu
#define VX_TLB_CAPACITY 16384u
#define VX_TLB_MAX_CTX 256u

typedef struct vx_tlb {
    vx_tlb_tag ctx[VX_TLB_MAX_CTX];
    unsigned nctx;
    unsigned ctx_hint[2];    /* [global]: the last index found, checked first */
    unsigned nctx_kind[2];   /* [global]: how many of ctx[] are of each kind */
    vx_tlb_entry *e;         /* VX_TLB_CAPACITY entries */
    unsigned n;
    unsigned nsize[4];       /* entries in e of each size (12, 21, 22, 30), dead ones too */
    int32_t *bucket;         /* heads */
    vx_gpa_entry *g;
    unsigned ng;
    unsigned gnsize[4];      /* entries in g of each size */
    int32_t *gbucket;
    uint64_t hits, misses, gpa_hits, gpa_misses, flushes;
} vx_tlb;

int vx_tlb_init(vx_tlb *t);  /* -1: out of memory */
void vx_tlb_fini(vx_tlb *t);

/* Look up the translation of la for tag (and the global translations of
 * its VPID and EPT root); NULL if none is cached. */
vx_tlb_entry *vx_tlb_lookup(vx_tlb *t, const vx_tlb_tag *tag, uint64_t la);
/* Cache a translation that succeeded (replacing any for the same page). */
vx_tlb_entry *vx_tlb_insert(vx_tlb *t, const vx_tlb_tag *tag, uint64_t la, const vx_xlate *x);
void vx_tlb_remove(vx_tlb *t, vx_tlb_entry *e);

/* Invalidation (each removes at least what the SDM says; the comments
 * name the operations that use it). */
/* Entries for the page of la in VPID vpid, any PCID, any EPT root:
 * INVLPG, INVPCID type 0, INVVPID type 0, a page fault (4.10.4.1). */
void vx_tlb_flush_page(vx_tlb *t, uint16_t vpid, uint64_t la);
/* Non-global entries of (vpid, pcid): MOV to CR3, INVPCID type 1. */
void vx_tlb_flush_pcid(vx_tlb *t, uint16_t vpid, uint16_t pcid);
/* All entries of vpid (globals with them unless keep_global): INVPCID
 * types 2 and 3, INVVPID types 1 and 3, MOV to CR0/CR4, VM entry and exit
 * without VPIDs. */
void vx_tlb_flush_vpid(vx_tlb *t, uint16_t vpid, int keep_global);
/* Every linear and combined mapping of every VPID but 0: INVVPID type 2. */
void vx_tlb_flush_all_vpids(vx_tlb *t);
/* Everything, of every kind and tag (--tlb off, after a table write). */
void vx_tlb_flush_all(vx_tlb *t);
/* Combined and guest-physical mappings of one EPT root (INVEPT type 1),
 * or of all (eptrta = UINT64_MAX: INVEPT type 2). */
void vx_tlb_flush_ept(vx_tlb *t, uint64_t eptrta);

/* The guest-physical mapping cache of one EPT root, as ept.h's hook. */
typedef struct vx_gpa_view {
    vx_tlb *t;
    uint64_t eptrta;
} vx_gpa_view;
vx_gpa_cache vx_tlb_gpa_cache(vx_gpa_view *view);

#endif
