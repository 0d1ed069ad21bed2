/*
 * ept.c - translating a guest-physical address through EPT (SDM Vol. 3C
 * 29.3.2), in the order the SDM lists the outcomes: an entry that is not
 * present is an EPT violation; a present entry with a reserved setting
 * is an EPT misconfiguration (29.3.3.1); a translation whose rights (the
 * AND over every level) do not allow the access is an EPT violation
 * (29.3.3.2); a successful one sets the accessed flag in every entry used
 * and the dirty flag in the leaf for a write, if the EPTP enables them
 * (29.3.4).
 *
 * Entry formats: Tables 29-1 (PML5E/PML4E), 29-2/29-3 (PDPTE), 29-4/29-5
 * (PDE), 29-6 (PTE); cross-checked with Bochs cpu/paging.cc
 * (translate_guest_physical) and Linux arch/x86/include/asm/vmx.h
 * (VMX_EPT_*).
 */
#include "ept.h"

#include "../vmcs/controls.h"

static uint64_t bits(unsigned lo, unsigned hi) /* mask of bits lo..hi */
{
    if (lo > hi) return 0;
    return (hi >= 63 ? UINT64_MAX : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

/* ---- the walk ---- */

/* The configuration of one EPT, as masks (29.3.2, 29.3.3.1):
 *  - an entry is present if any of bits 2:0 is set, or with mode-based
 *    execute control bit 10 alone (29.3.2);
 *  - bits 2:0 = 010b or 110b (write without read) are a
 *    misconfiguration, and so are 100b and 000b (execute-only, or only
 *    bit 10 set under mode-based execute control) where
 *    IA32_VMX_EPT_VPID_CAP bit 0 does not report execute-only
 *    translations; in an entry that maps a page, memory types 2, 3 and 7
 *    in bits 5:3 are too (29.3.7): bad_low[leaf] has bit n set when
 *    bits 5:0 = n are one of those;
 *  - reserved bits: 51:MAXPHYADDR everywhere; 7:3 in a PML5E and PML4E;
 *    6:3 in a PDPTE or PDE that references a table; 29:12 in a PDPTE that
 *    maps a 1-GByte page and 20:12 in a PDE that maps a 2-MByte page
 *    (Tables 29-1 to 29-6);
 *  - a large page the processor does not support (capability bits 17
 *    and 16): bit 7 is then reserved, and a leaf above level 1 has it set.
 * The walk length comes from EPTP bits 5:3; VM entry admits 4 or 5 levels
 * only (27.2.1.1), which the walk's arrays of 5 entries rely on. */
void vx_ept_prepare(vx_ept_walker *wk, const vx_ept *ept, const vx_hostmem *mem,
                    const vx_gpa_cache *cache, vx_walk_log *log, int peek)
{
    const uint64_t hi = bits(ept->maxphyaddr, 51);
    const int xonly = (ept->cap >> VX_EPTCAP_XONLY_BIT) & 1;
    const uint64_t rwx = 1u << 2 | 1u << 6 | (xonly ? 0 : (1u << 0 | 1u << 4));
    wk->ept = ept;
    wk->mem = *mem;
    wk->cache = cache;
    wk->log = log;
    wk->peek = peek;
    wk->addr_mask = bits(12, ept->maxphyaddr - 1);
    wk->root = ept->eptp & wk->addr_mask;
    wk->mbec = ept->mbec != 0;
    wk->present = 7 | (wk->mbec ? VX_EPTE_XU : 0);
    /* The rwx pattern for each memory-type value; memory types 2, 3 and
     * 7 are the bytes 2, 3 and 7 of bits 5:0. */
    wk->bad_low[0] = rwx * 0x0101010101010101ull;
    wk->bad_low[1] = wk->bad_low[0] | 0xFFull << 16 | 0xFFull << 24 | 0xFFull << 56;
    wk->rsvd[0][0] = wk->rsvd[1][0] = 0;
    wk->rsvd[0][1] = wk->rsvd[1][1] = hi;
    wk->rsvd[0][2] = wk->rsvd[0][3] = hi | bits(3, 6);
    wk->rsvd[0][4] = wk->rsvd[0][5] = hi | bits(3, 7);
    wk->rsvd[1][2] = hi | bits(12, 20) | (((ept->cap >> VX_EPTCAP_2M_BIT) & 1) ? 0 : VX_EPTE_PS);
    wk->rsvd[1][3] = hi | bits(12, 29) | (((ept->cap >> VX_EPTCAP_1G_BIT) & 1) ? 0 : VX_EPTE_PS);
    /* Levels 4 and 5 never map a page: their leaf row is unused. */
    wk->rsvd[1][4] = wk->rsvd[0][4];
    wk->rsvd[1][5] = wk->rsvd[0][5];
    wk->levels = (uint8_t)(((ept->eptp >> VX_EPTP_WALK_SHIFT) & 7) + 1);
    wk->ad = (ept->eptp & VX_EPTP_AD) != 0;
}

/* Is this present entry misconfigured (29.3.3.1)?  level 5..1; leaf: it
 * maps a page. */
static int misconfigured(const vx_ept_walker *wk, uint64_t e, int level, int leaf)
{
    return (int)((wk->bad_low[leaf] >> (e & 63)) & 1) | ((e & wk->rsvd[leaf][level]) != 0);
}

static void log_ref(vx_walk_log *log, int level, int target, uint64_t gpa, uint64_t hpa,
                    uint64_t e, unsigned rights)
{
    if (!log || log->n >= VX_WALK_MAX_REFS) return;
    vx_walk_ref *r = &log->ref[log->n++];
    r->dim = VX_DIM_EPT;
    r->level = (uint8_t)level;
    r->target = (uint8_t)target;
    r->rights = (uint8_t)rights;
    r->reg = 0;
    r->gpa = gpa;
    r->hpa = hpa;
    r->entry = e;
}

/* The rights a walk has so far: the entries' bits ANDed, R, W and X in
 * bits 2:0 and the user-mode execute right in bit 10 (29.3.2). */
#define RIGHTS_BITS (7ull | VX_EPTE_XU)

static unsigned log_rights(uint64_t rights, int mbec)
{
    return (unsigned)(rights & 7) | (mbec ? (unsigned)((rights >> 10) & 1) << 3 : 0);
}

/* A cached guest-physical mapping that allows the access is used as it
 * is; one that does not, or a write through a mapping whose dirty flag
 * is not set yet, walks again (29.4.2).  Returns 1 if it was used. */
static int use_cached(const vx_gpa_cache *cache, uint64_t gpa, unsigned need, unsigned xbit,
                      vx_walk_log *log, int target, vx_ept_xl *out)
{
    if (!cache->lookup || !cache->lookup(cache->ctx, gpa, out)) return 0;
    int ok = (!(need & VX_EPTE_R) || out->r) && (!(need & VX_EPTE_W) || (out->w && out->dirty)) &&
             (!(need & VX_EPTE_X) || (xbit == VX_EPTE_XU ? out->xu : out->x));
    if (!ok) return 0;
    out->nrefs = 0;
    out->hpa = (out->hpa & ~((1ull << out->shift) - 1)) | (gpa & ((1ull << out->shift) - 1));
    if (log && log->n < VX_WALK_MAX_REFS) {
        vx_walk_ref *c = &log->ref[log->n++];
        *c = (vx_walk_ref){.dim = VX_DIM_EPT, .target = (uint8_t)target, .reg = 2,
                           .gpa = gpa, .hpa = out->hpa,
                           .rights = (uint8_t)(out->r | out->w << 1 | out->x << 2 |
                                               out->xu << 3)};
    }
    return 1;
}

/* The entries one walk used, root first. */
typedef struct ept_path {
    uint64_t addr[5], ent[5];
    int n;
    int level;             /* the leaf's */
    uint64_t rights;       /* RIGHTS_BITS of every entry, ANDed */
} ept_path;

/* Accessed flags on every entry used, the dirty flag on the leaf for a
 * write (29.3.4). */
static void set_flags(const vx_hostmem *mem, unsigned need, ept_path *p)
{
    for (int i = 0; i < p->n; i++) {
        uint64_t ne = p->ent[i] | VX_EPTE_A;
        if (i == p->n - 1 && (need & VX_EPTE_W)) ne |= VX_EPTE_D;
        if (ne != p->ent[i]) vx_hm_store(mem, p->addr[i], 8, ne);
        p->ent[i] = ne;
    }
}

/* After the leaf: the rights against the access (29.3.3.2), then the
 * accessed and dirty flags, only if the EPTP enables them (29.3.4). */
static vx_xl_status finish(const vx_ept_walker *wk, uint64_t gpa, unsigned need, unsigned xbit,
                           ept_path *p, vx_ept_xl *out)
{
    const uint64_t rt = p->rights;
    unsigned r = (unsigned)rt & 1, w = (unsigned)(rt >> 1) & 1, x = (unsigned)(rt >> 2) & 1;
    unsigned xu = wk->mbec ? (unsigned)(rt >> 10) & 1 : 0;
    unsigned has = r | w << 1 | (xbit == VX_EPTE_XU ? xu : x) << 2;
    if (need & 7 & ~has) {
        out->status = VX_XL_EPT_VIOLATION;
        out->qual = (need & 7) | (r << 3) | (w << 4) | (x << 5) | (xu << 6);
        return out->status;
    }
    if (wk->ad && !wk->peek) set_flags(&wk->mem, need, p);
    uint64_t leafe = p->ent[p->n - 1];
    unsigned shift = 12 + 9 * (unsigned)(p->level - 1);
    uint64_t offset = (1ull << shift) - 1;
    out->hpa = (leafe & wk->addr_mask & ~offset) | (gpa & offset);
    out->r = (uint8_t)r;
    out->w = (uint8_t)w;
    out->x = (uint8_t)x;
    out->xu = (uint8_t)xu;
    out->shift = (uint8_t)shift;
    out->memtype = (uint8_t)((leafe >> 3) & 7);
    out->ipat = (uint8_t)((leafe >> 6) & 1);
    out->dirty = (uint8_t)(!wk->ad || (leafe & VX_EPTE_D));
    return VX_XL_OK;
}

/* The references of a walk, for the log: each entry with the rights so
 * far, the AND over it and the entries above; an entry that is not
 * present reports none (its zeros are in the AND). */
static void log_path(const vx_ept_walker *wk, vx_walk_log *log, int target, uint64_t gpa,
                     const ept_path *p, int not_present)
{
    uint64_t rights = RIGHTS_BITS;
    for (int i = 0; i < p->n; i++) {
        rights &= p->ent[i];
        unsigned r = (not_present && i == p->n - 1) ? 0 : log_rights(rights, wk->mbec);
        log_ref(log, wk->levels - i, target, gpa, p->addr[i], p->ent[i], r);
    }
}

/* Walk from the root to the leaf: each entry is checked for presence,
 * then for a misconfiguration, as it is read (29.3.3).  Returns OK, or
 * the fault in out; the path holds every entry read (out->nrefs), the
 * faulting one last. */
static vx_xl_status descend(const vx_ept_walker *wk, uint64_t gpa, unsigned need, ept_path *p,
                            vx_ept_xl *out)
{
    /* Which entries map a page: a PTE always, a PDPTE or PDE with bit 7
     * set, a PML4E or PML5E never (Tables 29-1 to 29-6).  Any present
     * entry has a bit of ~0 set. */
    static const uint64_t maps_page[6] = {0, ~0ull, VX_EPTE_PS, VX_EPTE_PS, 0, 0};
    /* Copies: the stores into the path may alias the walker's masks and
     * the memory's bounds, which the compiler would then read again. */
    const uint64_t present = wk->present, addr_mask = wk->addr_mask;
    const vx_hostmem ram = wk->mem;
    uint64_t table = wk->root, rights = RIGHTS_BITS;
    int n = 0, level = wk->levels;
    for (;; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t ea = table + ((gpa >> shift) & 0x1FF) * 8;
        uint64_t e = vx_hm_load(&ram, ea, 8);
        p->addr[n] = ea;
        p->ent[n++] = e;
        if (!(e & present)) {
            p->n = n;
            out->nrefs = (uint8_t)n;
            out->status = VX_XL_EPT_VIOLATION;
            out->qual = need & 7;
            return out->status;
        }
        int leaf = (e & maps_page[level]) != 0;
        rights &= e;
        if (misconfigured(wk, e, level, leaf)) {
            p->n = n;
            out->nrefs = (uint8_t)n;
            out->status = VX_XL_EPT_MISCONFIG;
            return out->status;
        }
        if (leaf) break;
        table = e & addr_mask;
    }
    out->nrefs = (uint8_t)n;
    p->n = n;
    p->level = level;
    p->rights = rights;
    return VX_XL_OK;
}

vx_xl_status vx_ept_walk(const vx_ept_walker *wk, uint64_t gpa, unsigned need, int user_la,
                         int target, vx_ept_xl *out)
{
    const vx_gpa_cache *cache = wk->cache;
    vx_walk_log *log = wk->log;
    /* The execute right the access needs: user-mode execute for a
     * user-mode linear address under mode-based execute control
     * (29.3.3.2). */
    unsigned xbit = (wk->mbec && user_la) ? VX_EPTE_XU : VX_EPTE_X;
    if (cache && use_cached(cache, gpa, need, xbit, log, target, out)) return VX_XL_OK;
    out->status = VX_XL_OK;
    out->qual = 0;
    ept_path p;
    vx_xl_status st = descend(wk, gpa, need, &p, out);
    if (log) log_path(wk, log, target, gpa, &p, st == VX_XL_EPT_VIOLATION);
    if (st != VX_XL_OK) return st;
    if (finish(wk, gpa, need, xbit, &p, out) != VX_XL_OK) return out->status;
    if (cache && cache->insert && !wk->peek) cache->insert(cache->ctx, gpa, out);
    return VX_XL_OK;
}

vx_xl_status vx_ept_translate(const vx_ept *ept, const vx_hostmem *mem,
                              const vx_gpa_cache *cache, uint64_t gpa, unsigned need,
                              int user_la, int peek, vx_walk_log *log, int target,
                              vx_ept_xl *out)
{
    vx_ept_walker wk;
    vx_ept_prepare(&wk, ept, mem, cache, log, peek);
    return vx_ept_walk(&wk, gpa, need, user_la, target, out);
}
